/*
 * disk.h -- the disk worker: room on the filesystems that hold the data,
 * pg_wal and the tablespaces, and the WAL waiting to be archived (disk.c)
 */
#ifndef PH_DISK_H
#define PH_DISK_H

#include "ground/snapshot.h"

extern void ph_register_disk_worker(void);
extern PGDLLEXPORT void pg_health_disk_main(Datum main_arg);
extern void ph_read_disk(PhDisk *d);

#endif							/* PH_DISK_H */
