/*
 * worker_loop.h -- the one skeleton of pg_health's background workers
 * (worker_loop.c): start-up, the claim of a worker's place in shared memory
 * and its release at exit, the loop's step, and its waits.
 */
#ifndef PH_WORKER_LOOP_H
#define PH_WORKER_LOOP_H

#include "ground/snapshot.h"
#include "ground/wait_events.h"

extern void ph_worker_start(void);
extern void ph_worker_claim(PhWorkerKind kind, pid_t parent);
extern bool ph_worker_step(PhWorkerKind kind);
extern void ph_worker_wait(PhWait wait, long timeout_ms);
extern void ph_worker_wait_socket(PhWait wait, pgsocket sock, int events, long timeout_ms);
struct pollfd;
extern bool ph_worker_poll(PhWait wait, struct pollfd *fds, int nfds, TimestampTz first_deadline);
extern void ph_worker_nap(PhWait wait, long ms);
extern bool ph_worker_running(PhWorkerKind kind, pid_t pid);
extern void ph_wake_worker(PhWorkerKind kind);

#endif							/* PH_WORKER_LOOP_H */
