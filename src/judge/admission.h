/*
 * admission.h -- the per-tenant verdict (admission.c): would a new
 * connection for this role to this database be admitted now?
 */
#ifndef PH_ADMISSION_H
#define PH_ADMISSION_H

#include "ground/snapshot.h"

typedef enum PhAdmit
{
	PH_ADMIT_YES = 0,
	PH_ADMIT_NO,				/* a reason says no */
	PH_ADMIT_UNKNOWN			/* the facts are not known (yet) */
} PhAdmit;

#define PH_MAX_ADMISSION_REASONS 12

typedef struct PhAdmissionReason
{
	const char *reason;			/* a word: no_such_role, role_limit, ... */
	bool		refuses;		/* false: the answer is unknown, not no */
	bool		lasting;		/* refuses until the configuration changes
								 * (not a limit or the slots, which free up) */
	char		detail[PH_DETAIL_LEN];
	char		fix[PH_DETAIL_LEN];
} PhAdmissionReason;

typedef struct PhAdmission
{
	const char *user;			/* as asked; NULL: not asked */
	const char *database;
	bool		hide_facts;		/* over HTTP: the answer and reasons only */
	PhAdmit		admit;
	PhTenantAnswer answer;		/* the facts it was judged on */
	int			nreasons;
	PhAdmissionReason reasons[PH_MAX_ADMISSION_REASONS];
} PhAdmission;

extern void ph_judge_admission(const PhSnapshot *snap, PhAdmission *adm, TimestampTz now);
extern const char *ph_admit_name(PhAdmit admit);

#endif							/* PH_ADMISSION_H */
