/*
 * status_page.h -- GET / and /status: the HTML status page (status_page.c).
 */
#ifndef PH_STATUS_PAGE_H
#define PH_STATUS_PAGE_H

#include "postgres.h"

#include "lib/stringinfo.h"

extern void ph_status_page_html(StringInfo b, int refresh_s, int *status);

#endif							/* PH_STATUS_PAGE_H */
