/* worker: the Celery worker itself. It takes messages from the broker,
 * turns them into requests, runs them as tasks under the concurrency
 * limit, stores their states in the result backend, and shuts down warm or
 * cold without losing a message. */
#ifndef POSETRACKD_WORKER_H
#define POSETRACKD_WORKER_H

#include <uv.h>

#include "buf.h"
#include "config.h"

typedef struct worker worker;

/* cfg must outlive the worker. The caller frees with worker_free() after
 * the loop has returned. */
worker *worker_new(uv_loop_t *loop, const config *cfg);
/* Connects and starts consuming. Returns 0, or -1 with err. */
int worker_start(worker *w, buf *err);
/* Warm shutdown (stop consuming, finish or hand back work), or cold
 * (hand back what has not started, stop the rest now). Idempotent; a cold
 * request during a warm shutdown escalates it. */
void worker_shutdown(worker *w, int cold);
/* Prints the start-up banner to stdout. */
void worker_print_banner(const worker *w);
void worker_free(worker *w);

#endif
