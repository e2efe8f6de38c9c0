/*
 * node.h -- this node's identity document, GET /node (node.c)
 */
#ifndef PH_NODE_H
#define PH_NODE_H

#include "lib/stringinfo.h"

extern void ph_node_json(StringInfo buf);
extern void ph_cluster_json(StringInfo buf, int *status);

#endif							/* PH_NODE_H */
