/* worker_internal: the structures shared by worker.c (message intake,
 * dispatch, shutdown) and request.c (one request's lifecycle and the task
 * API). Not for use outside worker/. */
#ifndef POSETRACKD_WORKER_INTERNAL_H
#define POSETRACKD_WORKER_INTERNAL_H

#include <jansson.h>
#include <uv.h>

#include "backend.h"
#include "broker.h"
#include "celery_msg.h"
#include "config.h"
#include "result_meta.h"
#include "task.h"

typedef enum request_state {
    REQUEST_ETA,     /* held until its eta */
    REQUEST_READY,   /* waiting for a free slot */
    REQUEST_RUNNING, /* the task has been started */
} request_state;

typedef enum worker_phase {
    WORKER_RUNNING,
    WORKER_DRAINING,  /* warm shutdown: running tasks may finish */
    WORKER_CANCELLED, /* grace over: running tasks were asked to stop */
    WORKER_CLOSING,   /* broker and backend are being closed */
} worker_phase;

typedef struct worker worker;
struct control;

/* A rate limit set with the rate_limit command: tasks of this type start
 * at most one per interval (a leaky bucket: each takes the next slot). */
typedef struct task_rate {
    struct task_rate *next;
    char *name;
    double interval; /* seconds between starts */
    char *text;      /* as given, e.g. "10/s", for inspect registered */
    double next_free;
} task_rate;

/* One message being handled: a task_run to the task. Owned by the worker;
 * lives from delivery until its outcome is stored (or it is handed back to
 * the broker), then freed when its timer handle closes. */
struct task_run {
    worker *w;
    celery_msg msg;
    char *raw; /* the delivered message, for requeueing */
    size_t raw_len;
    char *tag; /* NULL: nothing to ack */
    char *queue;
    const task_def *def;
    request_state state;
    int acked;
    int in_call;  /* inside a task callback: completion is deferred */
    int finished; /* an outcome was reported */
    int revoked;  /* terminated by revoke: REVOKED overrides the outcome */
    int debug;    /* the task asked for its DEBUG lines (task_run_set_debug) */
    double time_start;
    uv_timer_t timer; /* eta, then the soft and hard time limits */
    int soft_pending;
    int rate_checked; /* its rate-limit slot has been taken */
    double hard_at;   /* seconds since the epoch, 0 = none */
    void *data;
    struct task_run *prev, *next; /* worker.requests */
    struct task_run *ready_next;  /* worker.ready FIFO */
};

struct worker {
    uv_loop_t *loop;
    const config *cfg;
    broker *broker;
    backend *backend;
    worker_phase phase;
    struct task_run *requests; /* every live request */
    struct task_run *ready_head, *ready_tail;
    size_t nunacked; /* held, not acked, not waiting for an eta */
    size_t neta;
    size_t nrunning;
    unsigned long processed;
    int dispatching; /* inside dispatch(): re-entry is a no-op */
    json_t *revoked; /* task id -> time revoked, oldest first */
    json_t *totals;  /* task name -> tasks run, for stats */
    json_t *limits;  /* task name -> [soft, hard] from time_limit */
    task_rate *rates;
    unsigned concurrency; /* starts as --concurrency; pool_grow etc. */
    double started_at;
    unsigned long clock; /* Lamport clock shared by events and control */
    struct control *control;
    struct events *events;
    struct mingle *mingle; /* while the start-up sync runs */
    int online;            /* worker-online was sent */
    size_t prefetch_limit;
    uv_timer_t touch_timer;
    uv_timer_t shutdown_timer;
    uv_signal_t sig_term, sig_int, sig_quit;
    uv_timer_t watchdog_timer;
    uv_timer_t state_timer; /* writes --statedb once per loop iteration */
    int state_dirty;
    int closed_handles;
};

double worker_now(void);
/* Sends an event (fields stolen); see events.h for which are sent. */
void worker_event(worker *w, const char *type, json_t *fields);
/* Changes the number of tasks that may run at once (and the prefetch
 * limit with it). */
void worker_set_concurrency(worker *w, unsigned n);
/* Sets tasks of type name to start at most once per interval seconds; 0
 * removes the limit. */
void worker_set_rate_limit(worker *w, const char *name, double interval,
                           const char *text);
/* The rate limit text set for a task type, or NULL. */
const char *worker_rate_limit(worker *w, const char *name);
/* Flags id as revoked; with terminate, stops it if it runs (signal KILL:
 * at once, else through its cancellation). Returns 1 if a running task
 * was terminated, 0 if not, -1 if id is not a usable task id (empty, too
 * long, control bytes), which is ignored. */
int worker_revoke(worker *w, const char *id, int terminate, const char *signal);
/* Stores a state document in the backend (if any). */
void worker_store(worker *w, const result_meta *m, const char *reply_to,
                  const char *correlation_id);
void worker_ack(worker *w, struct task_run *r);
/* Called when a request has ended: frees it and lets more run. */
void worker_request_done(worker *w, struct task_run *r);

/* request.c */
struct task_run *request_new(worker *w, const char *tag, const char *queue,
                             const char *raw, size_t len);
void request_start(struct task_run *r);
/* Stores FAILURE with the exception; in_task: raised by the task itself
 * (a traceback is stored), else by the worker around it (none, as
 * Celery). */
void request_fail(struct task_run *r, const char *exc_type,
                  const char *exc_module, const char *message, int in_task);
void request_revoke(struct task_run *r, const char *reason);
/* Stops a running task now; the worker decides its outcome. */
void request_abort(struct task_run *r);
void request_cancel(struct task_run *r, task_cancel_reason why);
void request_free(struct task_run *r);
/* Revoke with terminate of a running task: stored as REVOKED
 * ("terminated"). hard stops it at once; otherwise it is cancelled and
 * stopped if it has not finished within REQUEST_TERMINATE_GRACE_MS. */
void request_terminate(struct task_run *r, int hard);
int request_expired(const struct task_run *r, double now);

#endif
