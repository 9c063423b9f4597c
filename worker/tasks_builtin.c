/* tasks_builtin: small tasks that exercise the whole task API (immediate
 * and deferred outcomes, cancellation, abort) and serve tests, demos and
 * benchmarks. */
#include "tasks_builtin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pyargs.h"

static void echo_start(task_run *run)
{
    json_span a = task_run_args(run), k = task_run_kwargs(run);
    buf out;
    buf_init(&out);
    buf_append_char(&out, '[');
    buf_append(&out, a.p, a.len);
    buf_append_str(&out, ", ");
    buf_append(&out, k.p, k.len);
    buf_append_char(&out, ']');
    json_span r = {out.data, out.len};
    task_run_succeed(run, r);
    buf_free(&out);
}

static void no_cancel(task_run *run, task_cancel_reason why)
{
    (void)run;
    (void)why;
}

static void no_abort(task_run *run)
{
    (void)run;
}

const task_def tasks_builtin_echo = {
    .name = "posetrackd.echo",
    .start = echo_start,
    .cancel = no_cancel,
    .abort = no_abort,
};

/* One sleeping call: owned by the task from start until its timer handle
 * is closed, which may be after the task_run is gone (abort). */
typedef struct sleep_state {
    uv_timer_t timer;
    task_run *run;
    char *seconds; /* the argument as given, returned as the result */
} sleep_state;

static void sleep_closed(uv_handle_t *h)
{
    sleep_state *s = h->data;
    free(s->seconds);
    free(s);
}

static void sleep_finish(sleep_state *s)
{
    task_run_set_data(s->run, NULL);
    s->run = NULL;
    uv_close((uv_handle_t *)&s->timer, sleep_closed);
}

static void sleep_fired(uv_timer_t *t)
{
    sleep_state *s = t->data;
    task_run *run = s->run;
    json_span r = {s->seconds, strlen(s->seconds)};
    task_run_succeed(run, r);
    sleep_finish(s);
}

static void sleep_start(task_run *run)
{
    static const pyargs_param params[] = {{"seconds", 1}};
    json_span val;
    buf err;
    buf_init(&err);
    if (pyargs_bind("sleep", params, 1, task_run_args(run),
                    task_run_kwargs(run), &val, &err)) {
        task_run_fail(run, "TypeError", "builtins", "%s", err.data);
        buf_free(&err);
        return;
    }
    buf_free(&err);
    double secs;
    if (json_span_number(val, &secs)) {
        task_run_fail(run, "TypeError", "builtins",
                      "'%.*s' object cannot be interpreted as a number",
                      (int)(val.len > 40 ? 40 : val.len), val.p);
        return;
    }
    /* time.sleep() refuses negative values; a day is far beyond any
     * diagnostic use and keeps the timer arithmetic exact. */
    if (!isfinite(secs) || secs < 0 || secs > 86400 * 365.0) {
        task_run_fail(run, "ValueError", "builtins",
                      "sleep length must be non-negative and at most a year");
        return;
    }
    sleep_state *s = xcalloc(1, sizeof(*s));
    s->run = run;
    s->seconds = xstrndup(val.p, val.len);
    uv_timer_init(task_run_loop(run), &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, sleep_fired, (uint64_t)llround(secs * 1000), 0);
    task_run_set_data(run, s);
}

static void sleep_cancel(task_run *run, task_cancel_reason why)
{
    sleep_state *s = task_run_data(run);
    if (!s)
        return;
    if (why == TASK_CANCEL_SOFT_TIME_LIMIT) {
        /* Python raises SoftTimeLimitExceeded inside time.sleep(). */
        task_run_fail(run, "SoftTimeLimitExceeded", "billiard.exceptions",
                      "SoftTimeLimitExceeded()");
        sleep_finish(s);
    } else if (why == TASK_CANCEL_REVOKED) {
        json_span r = {"null", 4};
        task_run_succeed(run, r);
        sleep_finish(s);
    }
    /* On shutdown a sleep keeps sleeping until the grace period ends. */
}

static void sleep_abort(task_run *run)
{
    sleep_state *s = task_run_data(run);
    if (s)
        sleep_finish(s);
}

const task_def tasks_builtin_sleep = {
    .name = "posetrackd.sleep",
    .start = sleep_start,
    .cancel = sleep_cancel,
    .abort = sleep_abort,
};

static void fail_start(task_run *run)
{
    static const pyargs_param params[] = {{"message", 1}};
    json_span val;
    buf err;
    buf_init(&err);
    if (pyargs_bind("fail", params, 1, task_run_args(run), task_run_kwargs(run),
                    &val, &err)) {
        task_run_fail(run, "TypeError", "builtins", "%s", err.data);
        buf_free(&err);
        return;
    }
    buf_free(&err);
    json_t *s = NULL;
    if (json_span_kind(val) == JSON_KIND_STRING)
        s = json_loadb(val.p, val.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (s)
        task_run_fail(run, "ValueError", "builtins", "%s",
                      json_string_value(s));
    else
        task_run_fail(run, "ValueError", "builtins", "%.*s", (int)val.len,
                      val.p);
    json_decref(s);
}

const task_def tasks_builtin_fail = {
    .name = "posetrackd.fail",
    .start = fail_start,
    .cancel = no_cancel,
    .abort = no_abort,
};
