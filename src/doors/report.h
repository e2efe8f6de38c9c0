/*
 * report.h -- the report and the probes' answers as JSON (report.c).
 */
#ifndef PH_REPORT_H
#define PH_REPORT_H

#include "ground/snapshot.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

struct PhAdmission;
extern Jsonb *ph_report_jsonb(const PhSnapshot *snap, const PhComponentTable *components,
							  const PhPoolerTable *poolers,
							  pid_t worker_pid, PhRole role, TimestampTz now,
							  const struct PhAdmission *adm);
extern void ph_probe_json(StringInfo buf, const PhSnapshot *snap, pid_t worker_pid, PhRole role,
						  TimestampTz now, const char *probe, const struct PhAdmission *adm,
						  int *http_status);

#endif							/* PH_REPORT_H */
