/* backend: where task states go (Celery's result backend). The worker
 * encodes the state document (result_meta) once; a backend only stores and
 * announces it. Drivers: backend_redis; "disabled" is no backend at all. */
#ifndef POSETRACKD_BACKEND_H
#define POSETRACKD_BACKEND_H

#include <stddef.h>

typedef struct backend backend;

/* One state to store. Valid during the store call only. */
typedef struct backend_state {
    const char *task_id;
    const char *status;
    const char *meta; /* the JSON document */
    size_t meta_len;
    const char *reply_to;       /* rpc backend: the client's queue */
    const char *correlation_id; /* rpc backend */
} backend_state;

typedef void (*backend_closed_cb)(void *data);

typedef struct backend_ops {
    void (*start)(backend *be);
    /* Stores the state; retried by the backend until it is written. */
    void (*store)(backend *be, const backend_state *st);
    /* Writes what is pending (bounded wait), closes, calls cb, frees. */
    void (*close)(backend *be, backend_closed_cb cb, void *data);
} backend_ops;

struct backend {
    const backend_ops *ops;
};

#endif
