/* broker_redis: the broker interface over kombu's Redis transport, able to
 * share queues with Python Celery workers. */
#ifndef POSETRACKD_BROKER_REDIS_H
#define POSETRACKD_BROKER_REDIS_H

#include <uv.h>

#include "broker.h"
#include "redis_url.h"

typedef struct broker_redis_options {
    const char *const *queues;
    size_t nqueues;
    double visibility_timeout;
    size_t max_message_size;
    broker_message_cb on_message;
    /* Called each time the broker (re)connects; may be NULL. */
    void (*on_ready)(void *data);
    void *data;
} broker_redis_options;

/* Copies what it needs from url and opts. Freed by ops->close. */
broker *broker_redis_new(uv_loop_t *loop, const redis_url *url,
                         const broker_redis_options *opts);

#endif
