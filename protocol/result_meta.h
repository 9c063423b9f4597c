/* result_meta: the task state documents Celery result backends store
 * (celery/backends/base.py, _get_result_meta and prepare_exception):
 *
 *   {"status": "SUCCESS", "result": ..., "traceback": null, "children": [],
 *    "date_done": "2026-12-03T10:00:00.123456", "task_id": "..."}
 *
 * Keys are written in Celery's order so stored documents look the same. */
#ifndef POSETRACKD_RESULT_META_H
#define POSETRACKD_RESULT_META_H

#include "buf.h"
#include "json_span.h"

typedef struct result_meta {
    const char *task_id;
    const char *status;
    json_span result;      /* raw JSON; len 0 means null */
    const char *traceback; /* NULL means null */
    int ready;             /* a ready state: date_done is set */
    double date_done;
    const char *group_id;  /* optional */
    const char *parent_id; /* optional */
    /* result_extended fields, written when extended is set */
    int extended;
    const char *name;
    json_span args;
    json_span kwargs;
    const char *worker;
    long retries;
    const char *queue;
} result_meta;

void result_meta_encode(buf *out, const result_meta *m);
/* Appends an exception as Celery's JSON serializer stores it:
 * {"exc_type": T, "exc_message": [message], "exc_module": M}. */
void result_meta_exception(buf *out, const char *exc_type,
                           const char *exc_module, const char *message);
/* The same with exc_message given as a raw JSON array (the exception's
 * args), for exceptions whose argument is not a string. */
void result_meta_exception_args(buf *out, const char *exc_type,
                                const char *exc_module, json_span args);
/* Appends a Python-style traceback text for a failure raised in task
 * `name`, so clients that print result.traceback show something useful. */
void result_meta_traceback(buf *out, const char *name, const char *exc_type,
                           const char *message);

#endif
