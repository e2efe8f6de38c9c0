/*
 * hooks.h -- connections as the postmaster's children see them (hooks.c):
 * authentications, failures and refusals counted by every backend, and the
 * last refused connection's names.
 */
#ifndef PH_HOOKS_H
#define PH_HOOKS_H

#include "ground/snapshot.h"

extern void ph_install_hooks(void);
extern bool ph_last_refusal(int class, PhRefusal *out);

#endif							/* PH_HOOKS_H */
