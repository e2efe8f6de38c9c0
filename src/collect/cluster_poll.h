/*
 * cluster_poll.h -- the cluster's members as this node sees them
 * (cluster_poll.c)
 */
#ifndef PH_CLUSTER_POLL_H
#define PH_CLUSTER_POLL_H

#include "ground/snapshot.h"

extern char *ph_cluster_name;
extern char *ph_cluster_members;
extern bool ph_cluster_discover;
extern int	ph_cluster_discover_port;
extern int	ph_cluster_interval_ms;
extern int	ph_cluster_timeout_ms;

extern void ph_define_cluster_poll_settings(void);
extern long ph_cluster_poll_step(int between_ms);
extern void ph_read_cluster(PhClusterTable *t);
extern void ph_node_name(char *out, size_t len);
extern void ph_walreceiver_name(char *out, size_t len);
extern void ph_node_instance(char *out, size_t len);

#endif							/* PH_CLUSTER_POLL_H */
