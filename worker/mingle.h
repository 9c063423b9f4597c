/* mingle: at start-up, ask the other workers for their revoked task ids
 * (Celery's mingle: the hello command), so a worker that starts late
 * agrees with the fleet on what is revoked. */
#ifndef POSETRACKD_MINGLE_H
#define POSETRACKD_MINGLE_H

#include <uv.h>

#include "redis_url.h"

struct worker;
typedef struct mingle mingle;

/* How long replies are collected, as Celery's mingle waits 1 s. */
#define MINGLE_TIMEOUT_MS 1000
/* Mingle gives up after this long in all (an unreachable or refusing
 * Redis), so it never holds up a shutdown. */
#define MINGLE_GIVE_UP_MS 3000

/* Broadcasts hello and merges the revoked ids of every reply within
 * MINGLE_TIMEOUT_MS; frees itself when done, and clears w->mingle. */
void mingle_start(uv_loop_t *loop, const redis_url *url, struct worker *w);
/* Ends it now (shutdown). */
void mingle_cancel(mingle *m);

#endif
