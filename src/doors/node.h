/*
 * node.h -- this node's identity document, GET /node, and the cluster's,
 * GET /cluster and the report's "cluster" (node.c)
 */
#ifndef PH_NODE_H
#define PH_NODE_H

#include "lib/stringinfo.h"

#include "ground/json.h"
#include "ground/snapshot.h"

extern void ph_node_json(StringInfo buf);
extern void ph_cluster_doc(PhJson *j, const PhSnapshot *snap, TimestampTz now, int *status);
extern void ph_cluster_json(StringInfo buf, int *status);
extern void ph_sync_json(StringInfo buf, bool want_sync, int *status);

#endif							/* PH_NODE_H */
