/*
 * archiver.h -- the archiver's statistics (archiver.c)
 */
#ifndef PH_ARCHIVER_H
#define PH_ARCHIVER_H

#include "ground/snapshot.h"

extern void ph_collect_archiver(PhArchiver *a, const PhArchiver *prev, bool in_recovery,
								int ready_files, TimestampTz now);

#endif							/* PH_ARCHIVER_H */
