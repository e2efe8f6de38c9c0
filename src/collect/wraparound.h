/*
 * wraparound.h -- XID and MultiXact ages against the server's limits
 * (wraparound.c)
 */
#ifndef PH_WRAPAROUND_H
#define PH_WRAPAROUND_H

#include "ground/snapshot.h"

extern void ph_collect_wraparound(PhWraparound *w);
extern void ph_name_oldest_xid_database(void);

#endif							/* PH_WRAPAROUND_H */
