/*
 * status_style.h -- the status page's stylesheet (status_style.c).
 */
#ifndef PH_STATUS_STYLE_H
#define PH_STATUS_STYLE_H

extern const char ph_status_page_style[];

#endif							/* PH_STATUS_STYLE_H */
