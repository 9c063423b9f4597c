/* task: the API between the worker and the tasks it runs.
 *
 * A task is a task_def: a name and three callbacks. The worker calls
 * start() on the loop thread with a task_run, the handle of one execution.
 * The task reports exactly one outcome, now or later, with
 * task_run_succeed*() or task_run_fail(); it may report progress before
 * that. It never blocks: slow work is scheduled on task_run_loop().
 *
 * Stopping: cancel() asks the task to finish soon (soft time limit, revoke
 * with a catchable signal, shutdown); the task still reports an outcome.
 * abort() stops it now: the task releases what it holds and reports
 * nothing; the worker stores the outcome itself. After an outcome or
 * abort() the task must not touch the task_run again. */
#ifndef POSETRACKD_TASK_H
#define POSETRACKD_TASK_H

#include <jansson.h>
#include <uv.h>

#include "json_span.h"
#include "log.h"

typedef struct task_run task_run;

typedef enum task_cancel_reason {
    TASK_CANCEL_SOFT_TIME_LIMIT,
    TASK_CANCEL_REVOKED,
    TASK_CANCEL_SHUTDOWN,
} task_cancel_reason;

typedef struct task_def {
    const char *name;
    void (*start)(task_run *run);
    void (*cancel)(task_run *run, task_cancel_reason why);
    void (*abort)(task_run *run);
    void *data; /* the task's own, shared by all its runs */
} task_def;

uv_loop_t *task_run_loop(task_run *run);
const char *task_run_id(const task_run *run);
const char *task_run_name(const task_run *run);
const char *task_run_hostname(const task_run *run);
/* The call's arguments as the client encoded them: a JSON array and a JSON
 * object, valid until the outcome is reported. */
json_span task_run_args(const task_run *run);
json_span task_run_kwargs(const task_run *run);
/* The task_def's data. */
void *task_run_def_data(const task_run *run);
void task_run_set_data(task_run *run, void *data);
void *task_run_data(const task_run *run);

/* Outcomes. The result is raw JSON (copied) or a jansson value (stolen). */
void task_run_succeed(task_run *run, json_span result);
void task_run_succeed_json(task_run *run, json_t *result);
void task_run_fail(task_run *run, const char *exc_type, const char *exc_module,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Stores a custom state (e.g. PROGRESS) with meta as its result. meta is
 * stolen. */
void task_run_progress(task_run *run, const char *state, json_t *meta);
/* Logs this run's DEBUG lines whatever the worker's log level (a task's
 * `debug` argument). */
void task_run_set_debug(task_run *run, int on);
/* Logs with the task's name and id in front. */
void task_run_log(task_run *run, log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
