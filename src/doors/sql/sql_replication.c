/*
 * sql_replication.c -- health.replication (doors): a standby's WAL receiver,
 * or a primary's standbys, as the latest sample saw them.
 */
#include "postgres.h"

#include "access/xlogrecovery.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"

#include "doors/fields.h"
#include "ground/compat.h"
#include "ground/guard.h"
#include "ground/shmem.h"
#include "judge/replication_checks.h"
#include "judge/verdict.h"
#include "read/read.h"

PG_FUNCTION_INFO_V1(pg_health_replication_1_0);

#define REPLICATION_COLS 17

/* how far behind current a position is, NULL when it is not known */
static void
put_behind(Datum *values, bool *nulls, int i, XLogRecPtr current, XLogRecPtr lsn)
{
	nulls[i] = XLogRecPtrIsInvalid(lsn);
	if (!nulls[i])
		values[i] = Int64GetDatum(current > lsn ? (int64) (current - lsn) : 0);
}

Datum
pg_health_replication_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhPageView	pv;
	PhSnapshot *snap;
	PhStandbyTable *t;
	Datum		values[REPLICATION_COLS];
	bool		nulls[REPLICATION_COLS];

	ph_require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ph_require_natts(rsinfo->setDesc, "health.replication", REPLICATION_COLS);
	ph_read_page(&pv, PH_PART_STANDBYS, 0, 0);
	snap = pv.snap;
	t = pv.standbys;
	if (snap->generation == 0)
		return (Datum) 0;

	if (snap->in_recovery)
	{
		const PhReplication *r = &snap->repl;
		char		peer[96];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum("receiver");
		ph_set_opt_int(values, nulls, 1, r->receiver_pid > 0 ? r->receiver_pid : -1);
		nulls[2] = true;
		if (r->sender_host[0] != '\0')
			snprintf(peer, sizeof(peer), "%s:%d", r->sender_host, r->sender_port);
		else
			peer[0] = '\0';
		ph_set_text(values, nulls, 3, peer[0] ? peer : NULL);
		values[4] = CStringGetTextDatum(ph_receiver_state_name((PhReceiverState) r->receiver_state));
		ph_set_time(values, nulls, 5, r->state_since);
		nulls[6] = nulls[7] = true;
		ph_set_lsn(values, nulls, 8, r->received_lsn);
		ph_set_lsn(values, nulls, 9, r->replayed_lsn);
		nulls[10] = nulls[11] = true;
		values[12] = Int64GetDatum(r->lag_bytes);
		values[13] = ph_interval_datum(r->delay_us);
		values[14] = BoolGetDatum(r->pause_state != RECOVERY_NOT_PAUSED);
		ph_set_time(values, nulls, 15, r->last_message_at);
		ph_set_time(values, nulls, 16, snap->sampled_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return (Datum) 0;
	}

	for (int i = 0; i < t->n; i++)
	{
		const PhStandby *s = &t->items[i];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(ph_server_name(true));
		values[1] = Int32GetDatum(s->pid);
		ph_set_text(values, nulls, 2, s->application_name[0] ? s->application_name : NULL);
		ph_set_text(values, nulls, 3, s->client_addr[0] ? s->client_addr : NULL);
		values[4] = CStringGetTextDatum(ph_walsender_state_name(s->state));
		ph_set_time(values, nulls, 5, s->backend_start);
		values[6] = CStringGetTextDatum(ph_sync_state_name((PhSyncState) s->sync_state));
		ph_set_lsn(values, nulls, 7, s->sent_lsn);
		ph_set_lsn(values, nulls, 8, s->flush_lsn);
		ph_set_lsn(values, nulls, 9, s->replay_lsn);
		put_behind(values, nulls, 10, snap->repl.current_lsn, s->sent_lsn);
		put_behind(values, nulls, 11, snap->repl.current_lsn, s->flush_lsn);
		nulls[12] = s->replay_lag_bytes < 0;
		if (!nulls[12])
			values[12] = Int64GetDatum(s->replay_lag_bytes);
		nulls[13] = s->replay_lag_us < 0;
		if (!nulls[13])
			values[13] = ph_interval_datum(s->replay_lag_us);
		nulls[14] = true;
		ph_set_time(values, nulls, 15, s->reply_at);
		ph_set_time(values, nulls, 16, snap->sampled_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
