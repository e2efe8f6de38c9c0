/*
 * cluster_checks.h -- judging the cluster (cluster_checks.c)
 */
#ifndef PH_CLUSTER_CHECKS_H
#define PH_CLUSTER_CHECKS_H

#include "ground/snapshot.h"

extern int	ph_cluster_min_standbys;
extern int	ph_cluster_min_standbys_level;
extern bool ph_cluster_in_ready;
extern bool ph_cluster_fence;

/* The members counted: reachable, primaries (which), ready standbys. */
typedef struct PhClusterCount
{
	int			servers;		/* members that are not another's alias */
	int			reachable;		/* up */
	int			answered;		/* up, foreign, or this node */
	int			resolvable;		/* members with an address or a name */
	int			primaries;
	int			primary[PH_MAX_MEMBERS];	/* their indexes */
	int			ready_standbys;
	int			most_advanced;	/* the standby furthest in WAL; -1: none */
} PhClusterCount;

extern void ph_define_cluster_check_settings(void);
extern const char *ph_member_state_name(PhMemberState s);
extern void ph_cluster_count(const PhClusterTable *t, PhClusterCount *n);
extern bool ph_cluster_stale(const PhClusterTable *t, TimestampTz now);
extern void ph_check_cluster(PhCheck *c, const PhClusterTable *t, bool in_recovery,
							 uint32 own_timeline, TimestampTz now);

#endif							/* PH_CLUSTER_CHECKS_H */
