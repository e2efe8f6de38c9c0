/*
 * http_answers.h -- the HTTP endpoint's answers (http_answers.c): each
 * route's handler, the errors' texts, the headers every answer carries.
 */
#ifndef PH_HTTP_ANSWERS_H
#define PH_HTTP_ANSWERS_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "doors/http/http_parse.h"

/* pg_health.http_admission: /ready and /health answer ?user= and ?database= */
extern bool ph_http_admission;

extern void ph_define_http_answer_settings(void);

/*
 * The whole answer to a request (parsed: the parser's verdict on it), status
 * line, headers and body, appended to out in the current memory context.
 * With may_wait, returns false instead, leaving out as it was, when the
 * answer would only say that the names asked for are being looked up: the
 * caller may park the request and ask ph_http_answer_waits until it no
 * longer waits, then answer it without may_wait.
 */
extern bool ph_http_answer(StringInfo out, PhHttpParse parsed, const PhHttpRequest *req,
						   bool may_wait);

/* Would the answer to this (parsed, PH_HTTP_OK) request still wait?  Cheap. */
extern bool ph_http_answer_waits(const PhHttpRequest *req);

#endif							/* PH_HTTP_ANSWERS_H */
