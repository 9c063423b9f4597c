/* backend_redis: Celery's Redis result backend (celery/backends/redis.py):
 * SETEX celery-task-meta-<id> <expires> <meta>, then PUBLISH on the same
 * name for clients waiting in AsyncResult.get(). */
#ifndef POSETRACKD_BACKEND_REDIS_H
#define POSETRACKD_BACKEND_REDIS_H

#include <uv.h>

#include "backend.h"
#include "redis_url.h"

/* expires: seconds results are kept, 0 = forever. Freed by ops->close. */
backend *backend_redis_new(uv_loop_t *loop, const redis_url *url,
                           double expires);

#endif
