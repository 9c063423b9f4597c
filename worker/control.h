/* control: Celery remote control (pidbox) for this worker: listens on the
 * celery.pidbox fanout, runs inspect and control commands against the
 * worker, and replies to the caller's reply queue. */
#ifndef POSETRACKD_CONTROL_H
#define POSETRACKD_CONTROL_H

#include <uv.h>

#include "redis_url.h"

typedef struct control control;
struct worker;

/* Freed by control_close(). */
control *control_new(uv_loop_t *loop, const redis_url *url, struct worker *w);
void control_start(control *c);
void control_close(control *c);

#endif
