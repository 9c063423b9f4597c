/* request: one task message from delivery to stored outcome, and the task
 * API (task.h) that a running task sees.
 *
 * The one subtle rule: a task may report its outcome from inside a call the
 * worker makes into it (start, cancel). The request must outlive that call,
 * so while `in_call` is set completion is only recorded, and the worker
 * completes the request when the call returns. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "worker_internal.h"

/* How much of a result a log line shows. */
#define LOG_RESULT_MAX 256
/* A task asked to stop by revoke(terminate=True) that has not finished by
 * then is stopped outright: revokes must take effect within 100 ms. */
#define REQUEST_TERMINATE_GRACE_MS 80

struct task_run *request_new(worker *w, const char *tag, const char *queue,
                             const char *raw, size_t len)
{
    struct task_run *r = xcalloc(1, sizeof(*r));
    r->w = w;
    r->tag = tag && *tag ? xstrdup(tag) : NULL;
    r->queue = xstrdup(queue ? queue : "");
    r->raw = xstrndup(raw, len);
    r->raw_len = len;
    uv_timer_init(w->loop, &r->timer);
    r->timer.data = r;
    return r;
}

static void request_closed(uv_handle_t *h)
{
    struct task_run *r = h->data;
    celery_msg_free(&r->msg);
    free(r->raw);
    free(r->tag);
    free(r->queue);
    free(r);
}

void request_free(struct task_run *r)
{
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, request_closed);
}

int request_expired(const struct task_run *r, double now)
{
    return r->msg.has_expires && now > r->msg.expires;
}

static void store_state(struct task_run *r, const char *status,
                        json_span result, const char *traceback, int ready)
{
    const config *cfg = r->w->cfg;
    if (r->msg.ignore_result || !r->msg.id)
        return;
    result_meta m = {0};
    m.task_id = r->msg.id;
    m.status = status;
    m.result = result;
    m.traceback = traceback;
    m.ready = ready;
    m.date_done = worker_now();
    m.group_id = r->msg.group;
    m.parent_id = r->msg.parent_id;
    if (cfg->result_extended) {
        m.extended = 1;
        m.name = r->msg.task;
        m.args = r->msg.args;
        m.kwargs = r->msg.kwargs;
        m.worker = cfg->hostname;
        m.retries = r->msg.retries;
        m.queue = r->msg.routing_key;
    }
    worker_store(r->w, &m, r->msg.reply_to, r->msg.correlation_id);
}

/* message is the text of the exception raised in the task, for the
 * traceback; NULL when it was raised by the worker around the task, where
 * Celery stores no traceback (revoked, time limit, unknown task). */
static void store_exception(struct task_run *r, const char *status,
                            const char *exc_type, const char *exc_module,
                            json_span exc_args, const char *message)
{
    buf exc, tb;
    buf_init(&exc);
    buf_init(&tb);
    result_meta_exception_args(&exc, exc_type, exc_module, exc_args);
    if (message)
        result_meta_traceback(&tb, r->msg.task, exc_type, message);
    json_span s = {exc.data, exc.len};
    store_state(r, status, s, message ? tb.data : NULL, 1);
    buf_free(&exc);
    buf_free(&tb);
}

/* The exception's args as a JSON array holding one string. */
static void message_args(buf *out, const char *message)
{
    buf_append_char(out, '[');
    buf_append_json_str(out, message, strlen(message));
    buf_append_char(out, ']');
}

/* The exception as Python's repr shows it, for events: ValueError('x'),
 * with Python's choice of quotes and escapes for the common cases. */
static char *exc_repr(const char *exc_type, const char *message)
{
    char q = strchr(message, '\'') && !strchr(message, '"') ? '"' : '\'';
    buf b;
    buf_init(&b);
    buf_printf(&b, "%s(%c", exc_type, q);
    for (const char *p = message; *p; p++) {
        if (*p == '\\' || *p == q)
            buf_printf(&b, "\\%c", *p);
        else if (*p == '\n')
            buf_append_str(&b, "\\n");
        else if ((unsigned char)*p < 0x20)
            buf_printf(&b, "\\x%02x", (unsigned char)*p);
        else
            buf_append_char(&b, *p);
    }
    buf_printf(&b, "%c)", q);
    return buf_detach(&b, NULL);
}

void request_fail(struct task_run *r, const char *exc_type,
                  const char *exc_module, const char *message, int in_task)
{
    buf args;
    buf_init(&args);
    message_args(&args, message);
    json_span s = {args.data, args.len};
    if (r->revoked)
        store_exception(r, "REVOKED", "TaskRevokedError", "celery.exceptions",
                        (json_span){"[\"terminated\"]", 14}, NULL);
    else
        store_exception(r, "FAILURE", exc_type, exc_module, s,
                        in_task ? message : NULL);
    buf_free(&args);
    if (r->msg.id && !r->revoked) {
        char *repr = exc_repr(exc_type, message);
        buf tb;
        buf_init(&tb);
        result_meta_traceback(&tb, r->msg.task, exc_type, message);
        worker_event(r->w, "task-failed",
                     json_pack("{s:s, s:s, s:s}", "uuid", r->msg.id,
                               "exception", repr, "traceback", tb.data));
        buf_free(&tb);
        free(repr);
    }
}

static void send_revoked(struct task_run *r, const char *reason, int signum)
{
    int terminated = strcmp(reason, "terminated") == 0;
    worker_event(r->w, "task-revoked",
                 json_pack("{s:s, s:b, s:o, s:b}", "uuid", r->msg.id,
                           "terminated", terminated, "signum",
                           terminated ? json_integer(signum) : json_null(),
                           "expired", strcmp(reason, "expired") == 0));
}

void request_revoke(struct task_run *r, const char *reason)
{
    buf args;
    buf_init(&args);
    message_args(&args, reason);
    json_span s = {args.data, args.len};
    store_exception(r, "REVOKED", "TaskRevokedError", "celery.exceptions", s,
                    NULL);
    buf_free(&args);
    log_info("Discarding revoked task: %s[%s]", r->msg.task, r->msg.id);
    send_revoked(r, reason, 9);
    r->finished = 1;
    worker_ack(r->w, r);
    worker_request_done(r->w, r);
}

/* Completes the request unless the task reported from inside a call. */
static void finish(struct task_run *r)
{
    r->finished = 1;
    if (!r->in_call)
        worker_request_done(r->w, r);
}

static int report_twice(struct task_run *r)
{
    if (!r->finished)
        return 0;
    log_error("Task %s[%s] reported a second outcome; ignored", r->msg.task,
              r->msg.id);
    return 1;
}

static void store_started(struct task_run *r)
{
    buf meta;
    buf_init(&meta);
    buf_printf(&meta, "{\"pid\": %ld, \"hostname\": ", (long)getpid());
    buf_append_json_str(&meta, r->w->cfg->hostname,
                        strlen(r->w->cfg->hostname));
    buf_append_char(&meta, '}');
    json_span s = {meta.data, meta.len};
    store_state(r, "STARTED", s, NULL, 0);
    buf_free(&meta);
}

static void limit_fired(uv_timer_t *t);

/* The message's own limit wins, then one set with the time_limit control
 * command for the task type, then --soft-time-limit / --time-limit. */
static double limit_of(const struct task_run *r, double msg, int index,
                       double flag)
{
    if (msg > 0)
        return msg;
    json_t *set = json_object_get(r->w->limits, r->msg.task);
    if (set)
        return json_number_value(json_array_get(set, (size_t)index));
    return flag;
}

static double soft_limit(const struct task_run *r)
{
    return limit_of(r, r->msg.soft_time_limit, 0, r->w->cfg->soft_time_limit);
}

static double hard_limit_of(const struct task_run *r)
{
    return limit_of(r, r->msg.time_limit, 1, r->w->cfg->time_limit);
}

static void arm_limits(struct task_run *r)
{
    double soft = soft_limit(r), hard = hard_limit_of(r);
    r->hard_at = hard > 0 ? r->time_start + hard : 0;
    if (soft > 0 && (hard <= 0 || soft < hard)) {
        r->soft_pending = 1;
        uv_timer_start(&r->timer, limit_fired, (uint64_t)llround(soft * 1e3),
                       0);
    } else if (hard > 0) {
        uv_timer_start(&r->timer, limit_fired, (uint64_t)llround(hard * 1e3),
                       0);
    }
}

static void hard_limit(struct task_run *r)
{
    double limit = hard_limit_of(r);
    log_error("Hard time limit (%gs) exceeded for %s[%s]", limit, r->msg.task,
              r->msg.id);
    request_abort(r);
    buf args, msg;
    buf_init(&args);
    buf_init(&msg);
    buf_printf(&args, "[%.17g]", limit);
    buf_printf(&msg, "TimeLimitExceeded(%g)", limit);
    json_span s = {args.data, args.len};
    store_exception(r, "FAILURE", "TimeLimitExceeded", "billiard.exceptions", s,
                    NULL);
    buf_free(&args);
    buf_free(&msg);
    r->finished = 1;
    worker_request_done(r->w, r);
}

static void limit_fired(uv_timer_t *t)
{
    struct task_run *r = t->data;
    if (!r->soft_pending) {
        hard_limit(r);
        return;
    }
    r->soft_pending = 0;
    double soft = soft_limit(r);
    log_warning("Soft time limit (%gs) exceeded for %s[%s]", soft, r->msg.task,
                r->msg.id);
    request_cancel(r, TASK_CANCEL_SOFT_TIME_LIMIT);
    if (r->finished)
        return; /* completed: r is being freed */
    if (r->hard_at > 0) {
        double left = r->hard_at - worker_now();
        uv_timer_start(&r->timer, limit_fired,
                       left > 0 ? (uint64_t)llround(left * 1e3) : 0, 0);
    }
}

void request_start(struct task_run *r)
{
    r->time_start = worker_now();
    if (r->w->cfg->track_started)
        store_started(r);
    arm_limits(r);
    log_debug("Task %s[%s] started", r->msg.task, r->msg.id);
    worker_event(
        r->w, "task-started",
        json_pack("{s:s, s:i}", "uuid", r->msg.id, "pid", (int)getpid()));
    r->in_call = 1;
    r->def->start(r);
    r->in_call = 0;
    if (r->finished)
        worker_request_done(r->w, r);
}

void request_cancel(struct task_run *r, task_cancel_reason why)
{
    if (r->finished || r->state != REQUEST_RUNNING)
        return;
    r->in_call = 1;
    r->def->cancel(r, why);
    r->in_call = 0;
    if (r->finished)
        worker_request_done(r->w, r);
}

void request_abort(struct task_run *r)
{
    if (r->finished || r->state != REQUEST_RUNNING)
        return;
    r->in_call = 1;
    r->def->abort(r);
    r->in_call = 0;
}

/* ---- the task API ---- */

uv_loop_t *task_run_loop(task_run *run)
{
    return run->w->loop;
}

void *task_run_def_data(const task_run *run)
{
    return run->def->data;
}

const char *task_run_id(const task_run *run)
{
    return run->msg.id;
}

const char *task_run_name(const task_run *run)
{
    return run->msg.task;
}

const char *task_run_hostname(const task_run *run)
{
    return run->w->cfg->hostname;
}

json_span task_run_args(const task_run *run)
{
    return run->msg.args;
}

json_span task_run_kwargs(const task_run *run)
{
    return run->msg.kwargs;
}

void task_run_set_data(task_run *run, void *data)
{
    run->data = data;
}

void *task_run_data(const task_run *run)
{
    return run->data;
}

void task_run_succeed(task_run *run, json_span result)
{
    if (report_twice(run))
        return;
    double runtime = worker_now() - run->time_start;
    size_t shown = result.len > LOG_RESULT_MAX ? LOG_RESULT_MAX : result.len;
    if (run->revoked) {
        /* Terminated by revoke: whatever the task says, it was revoked. */
        store_exception(run, "REVOKED", "TaskRevokedError", "celery.exceptions",
                        (json_span){"[\"terminated\"]", 14}, NULL);
        log_info("Task %s[%s] revoked (terminated) after %.6fs", run->msg.task,
                 run->msg.id, runtime);
        send_revoked(run, "terminated", 15);
    } else {
        store_state(run, "SUCCESS", result, NULL, 1);
        log_info("Task %s[%s] succeeded in %.6fs: %.*s%s", run->msg.task,
                 run->msg.id, runtime, (int)shown, result.p,
                 result.len > LOG_RESULT_MAX ? "..." : "");
        worker_event(run->w, "task-succeeded",
                     json_pack("{s:s, s:s%, s:f}", "uuid", run->msg.id,
                               "result", result.p, shown, "runtime", runtime));
    }
    finish(run);
}

void task_run_succeed_json(task_run *run, json_t *result)
{
    char *s = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(result);
    if (!s) {
        task_run_fail(run, "EncodeError", "kombu.exceptions",
                      "result cannot be encoded as JSON");
        return;
    }
    json_span v = {s, strlen(s)};
    task_run_succeed(run, v);
    free(s);
}

void task_run_fail(task_run *run, const char *exc_type, const char *exc_module,
                   const char *fmt, ...)
{
    if (report_twice(run))
        return;
    buf msg;
    buf_init(&msg);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    const char *text = msg.data ? msg.data : "";
    request_fail(run, exc_type, exc_module, text, 1);
    log_error("Task %s[%s] raised unexpected: %s('%.200s')", run->msg.task,
              run->msg.id, exc_type, text);
    buf_free(&msg);
    finish(run);
}

void task_run_progress(task_run *run, const char *state, json_t *meta)
{
    if (run->finished) {
        json_decref(meta);
        return;
    }
    char *s = json_dumps(meta, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(meta);
    if (!s)
        return;
    json_span v = {s, strlen(s)};
    store_state(run, state, v, NULL, 0);
    free(s);
}

static void emit(log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vemit(level, fmt, ap);
    va_end(ap);
}

void task_run_log(task_run *run, log_level level, const char *fmt, ...)
{
    if (!log_enabled(level) && !(run->debug && level == LOG_LEVEL_DEBUG))
        return;
    buf msg;
    buf_init(&msg);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    emit(level, "%s[%s]: %s", run->msg.task, run->msg.id,
         msg.data ? msg.data : "");
    buf_free(&msg);
}

void task_run_set_debug(task_run *run, int on)
{
    run->debug = on != 0;
}

static void terminate_deadline(uv_timer_t *t)
{
    struct task_run *r = t->data;
    request_abort(r);
    request_revoke(r, "terminated");
}

void request_terminate(struct task_run *r, int hard)
{
    if (r->finished || r->state != REQUEST_RUNNING)
        return;
    r->revoked = 1;
    log_info("Terminating %s (%s)", r->msg.id, hard ? "SIGKILL" : "SIGTERM");
    if (hard) {
        request_abort(r);
        request_revoke(r, "terminated");
        return;
    }
    request_cancel(r, TASK_CANCEL_REVOKED);
    if (!r->finished)
        uv_timer_start(&r->timer, terminate_deadline,
                       REQUEST_TERMINATE_GRACE_MS, 0);
}
