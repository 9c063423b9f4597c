/* tracker_task: one run is a `tracker`: the compute core, two or three
 * WebSocket clients and a progress timer. Setup is asynchronous (the
 * store answers through callbacks), so a run counts the store calls it
 * waits for and is freed only when none is left and its timer has closed.
 *
 * The end of a run, whatever causes it (stop message, revoke, time limit,
 * shutdown), goes through tracker_end(): the session is stopped, its
 * final frame queued on the output socket ahead of the close, the
 * sockets closed (each flushes first), and the outcome reported. */
#include "tracker_task.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "task.h"
#include "task_registry.h"
#include "tracker_args.h"
#include "tracker_core.h"
#include "ws_client.h"

/* PROGRESS at most this often (ms), and at least every
 * TRACKER_PROGRESS_IDLE_S seconds when nothing changes. */
#define TRACKER_PROGRESS_MS 1000
#define TRACKER_PROGRESS_IDLE_S 10.0
/* Frame latency (input received to session frame written) is counted in
 * buckets this wide, up to TRACKER_LATENCY_BUCKETS of them; slower ones
 * land in the last. 0.5 ms steps resolve a 20 ms target well. */
#define TRACKER_LATENCY_STEP_US 500
#define TRACKER_LATENCY_BUCKETS 64
/* Largest control message: parameters, not data. */
#define TRACKER_CONTROL_MAX_BYTES 65536

typedef struct tracker_env {
    uv_loop_t *loop;
    wall_store *store;
    ws_hub *hub;
    buf out; /* scratch for session frames: one loop, one at a time */
} tracker_env;

typedef struct tracker {
    task_run *run; /* NULL once the outcome is reported */
    tracker_env *env;
    tracker_args args;
    wall *wall; /* until the core takes it */
    tracker_core core;
    int core_ready;
    ws_client *in, *out, *ctl;
    uv_timer_t progress; /* its close frees the tracker */
    int pending;         /* store calls not yet answered */
    int dead;            /* ended or aborted: free when nothing is pending */
    int paused;
    double started; /* seconds since the epoch */
    uint64_t progress_count;
    double progress_at;
    session_status progress_status;
    size_t progress_touched;
    uint32_t latency[TRACKER_LATENCY_BUCKETS];
    uint64_t latency_max_ns;
} tracker;

static tracker_env env_storage;
static task_def defs[2];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define tracker_debug(t, ...)                                                  \
    do {                                                                       \
        if ((t)->run)                                                          \
            task_run_log((t)->run, LOG_LEVEL_DEBUG, __VA_ARGS__);              \
    } while (0)

/* ---- lifetime ---- */

static void tracker_free_now(uv_handle_t *h)
{
    tracker *t = h->data;
    if (t->core_ready)
        tracker_core_free(&t->core);
    wall_unref(t->wall);
    tracker_args_free(&t->args);
    free(t);
}

/* Frees t once no store call can still answer into it. */
static void tracker_release(tracker *t)
{
    t->dead = 1;
    if (t->pending > 0 || uv_is_closing((uv_handle_t *)&t->progress))
        return;
    uv_close((uv_handle_t *)&t->progress, tracker_free_now);
}

static void close_sockets(tracker *t)
{
    ws_client *cs[] = {t->in, t->out, t->ctl};
    for (size_t i = 0; i < 3; i++)
        if (cs[i])
            ws_client_close(cs[i]);
    t->in = t->out = t->ctl = NULL;
}

/* Setup failed: FAILURE with the exception, and the run is over. */
static void fail_setup(tracker *t, const char *exc, const char *msg)
{
    task_run_fail(t->run, exc, "builtins", "%s", msg);
    t->run = NULL;
    tracker_release(t);
}

/* A store call came back: 1 if the run still wants the answer; if it has
 * ended meanwhile, this may have been the last thing keeping it. */
static int store_answered(tracker *t)
{
    t->pending--;
    if (!t->dead)
        return 1;
    tracker_release(t);
    return 0;
}

static void discard_route(route *r)
{
    if (r) {
        route_free(r);
        free(r);
    }
}

/* ---- state reports ---- */

static size_t holds_touched(const tracker *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->core.nholds; i++)
        n += t->core.session.holds[i].touched != 0;
    return n;
}

static json_t *session_json(tracker *t)
{
    const buf *text = tracker_core_session_text(&t->core);
    return json_loadb(text->data, text->len, 0, NULL);
}

static json_t *route_id_json(const tracker *t)
{
    return t->core.has_route && t->core.route.id
               ? json_integer(t->core.route.id)
               : json_null();
}

/* The bucket holding the q-th quantile, as its upper edge in ms. */
static double latency_quantile(const tracker *t, double q)
{
    uint64_t total = 0, seen = 0;
    for (int i = 0; i < TRACKER_LATENCY_BUCKETS; i++)
        total += t->latency[i];
    if (total == 0)
        return 0;
    for (int i = 0; i < TRACKER_LATENCY_BUCKETS; i++) {
        seen += t->latency[i];
        if (seen >= q * (double)total)
            return (i + 1) * TRACKER_LATENCY_STEP_US / 1000.0;
    }
    return TRACKER_LATENCY_BUCKETS * TRACKER_LATENCY_STEP_US / 1000.0;
}

static json_t *latency_json(const tracker *t)
{
    return json_pack("{s:f, s:f, s:f}", "p50", latency_quantile(t, 0.5), "p99",
                     latency_quantile(t, 0.99), "max", t->latency_max_ns / 1e6);
}

static void send_progress(tracker *t, double now)
{
    double elapsed = now - t->started;
    double span = now - t->progress_at;
    uint64_t count = t->core.accepted;
    size_t touched = holds_touched(t);
    json_t *meta = json_pack(
        "{s:s, s:I, s:I, s:f, s:f, s:s, s:I, s:I, s:b, s:b, s:I, s:o}",
        "status", "running", "message_count", (json_int_t)count,
        "rejected_count", (json_int_t)tracker_core_rejected(&t->core),
        "elapsed_time", elapsed, "rate",
        span > 0 ? (double)(count - t->progress_count) / span : 0.0,
        "session_status", session_status_name(t->core.session.status),
        "holds_touched", (json_int_t)touched, "holds_total",
        (json_int_t)t->core.nholds, "input_connected",
        t->in && ws_client_is_open(t->in), "output_connected",
        t->out && ws_client_is_open(t->out), "wall_id",
        (json_int_t)t->args.wall_id, "route_id", route_id_json(t));
    json_object_set_new(meta, "latency_ms", latency_json(t));
    /* Session frames a newer one replaced before the screen took them. */
    json_object_set_new(
        meta, "superseded_count",
        json_integer(t->out ? (json_int_t)ws_client_superseded(t->out) : 0));
    task_run_progress(t->run, "PROGRESS", meta);
    t->progress_count = count;
    t->progress_at = now;
    t->progress_status = t->core.session.status;
    t->progress_touched = touched;
}

/* Frames, the session's status and touched holds (reset_holds changes the
 * last two without a frame) are what PROGRESS reports as changing. */
static void progress_tick(uv_timer_t *h)
{
    tracker *t = h->data;
    double now = now_s();
    if (t->core.accepted != t->progress_count ||
        t->core.session.status != t->progress_status ||
        holds_touched(t) != t->progress_touched ||
        now - t->progress_at >= TRACKER_PROGRESS_IDLE_S)
        send_progress(t, now);
}

static json_t *summary(tracker *t, const char *stopped_by, double now)
{
    double elapsed = now - t->started;
    return json_pack(
        "{s:s, s:s, s:I, s:I, s:f, s:f, s:I, s:o, s:o}", "status",
        session_status_name(t->core.session.status), "stopped_by", stopped_by,
        "message_count", (json_int_t)t->core.accepted, "rejected_count",
        (json_int_t)tracker_core_rejected(&t->core), "elapsed_time", elapsed,
        "average_rate", elapsed > 0 ? (double)t->core.accepted / elapsed : 0.0,
        "wall_id", (json_int_t)t->args.wall_id, "route_id", route_id_json(t),
        "session", session_json(t));
}

static void send_session(tracker *t)
{
    if (!t->out || t->paused)
        return;
    buf_reset(&t->env->out);
    tracker_core_output(&t->core, &t->env->out);
    ws_client_send_latest(t->out, t->env->out.data, t->env->out.len,
                          uv_hrtime());
}

/* Ends the run: the final frame goes out before the sockets close. With
 * report set the outcome is a success carrying the summary. */
static void tracker_end(tracker *t, const char *stopped_by, int report)
{
    double now = now_s();
    tracker_core_stop(&t->core, now);
    t->paused = 0;
    send_session(t);
    task_run_log(t->run, LOG_LEVEL_INFO,
                 "session %s (%s): %llu frames, %llu rejected",
                 session_status_name(t->core.session.status), stopped_by,
                 (unsigned long long)t->core.accepted,
                 (unsigned long long)tracker_core_rejected(&t->core));
    if (report)
        task_run_succeed_json(t->run, summary(t, stopped_by, now));
    close_sockets(t);
    t->run = NULL;
    tracker_release(t);
}

/* ---- control messages (DESIGN §6.8) ---- */

static void reply(tracker *t, json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (s && t->out && ws_client_send_reply(t->out, s, strlen(s)) < 0)
        tracker_debug(t, "control reply dropped: output queue full");
    free(s);
}

static void reply_error(tracker *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reply_error(tracker *t, const char *fmt, ...)
{
    buf msg;
    buf_init(&msg);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    tracker_debug(t, "control error: %s", msg.data);
    reply(t, json_pack("{s:s, s:s}", "type", "error", "message", msg.data));
    buf_free(&msg);
}

static json_t *params_json(const tracker *t)
{
    const tracker_params *p = &t->core.params;
    return json_pack("{s:f, s:f, s:f, s:o, s:b, s:b}", "proximity_threshold",
                     p->proximity_threshold, "touch_duration",
                     p->touch_duration, "visibility_threshold",
                     p->visibility_threshold, "route_id", route_id_json(t),
                     "no_stream_landmarks", p->no_stream_landmarks,
                     "stream_svg_only", p->stream_svg_only);
}

static void reply_status(tracker *t)
{
    double now = now_s();
    double elapsed = now - t->started;
    reply(t, json_pack(
                 "{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:b, s:o, s:{s:b, s:b, "
                 "s:b}, s:I, s:o}",
                 "type", "status_response", "task_id", task_run_id(t->run),
                 "status", session_status_name(t->core.session.status),
                 "message_count", (json_int_t)t->core.accepted,
                 "rejected_count", (json_int_t)tracker_core_rejected(&t->core),
                 "elapsed_time", elapsed, "rate",
                 elapsed > 0 ? (double)t->core.accepted / elapsed : 0.0,
                 "output_paused", t->paused, "parameters", params_json(t),
                 "connections", "input", t->in && ws_client_is_open(t->in),
                 "output", t->out && ws_client_is_open(t->out), "control",
                 t->ctl && ws_client_is_open(t->ctl), "wall_id",
                 (json_int_t)t->args.wall_id, "session", session_json(t)));
}

/* A number >= 0 from a control message, or -1 with an error reply. */
static int control_number(tracker *t, const json_t *v, const char *name,
                          double *out)
{
    if (!v)
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
        json_number_value(v) < 0) {
        reply_error(t, "%s must be a number >= 0", name);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static void parameters_updated(tracker *t)
{
    reply(t, json_pack("{s:s, s:o}", "type", "parameters_updated", "parameters",
                       params_json(t)));
    send_session(t);
}

static void route_loaded(void *data, route *r, wall_store_status st,
                         const char *err)
{
    (void)st;
    tracker *t = data;
    if (!store_answered(t)) {
        discard_route(r);
        return;
    }
    if (!r) {
        reply_error(t, "%s", err);
        return;
    }
    tracker_core_set_route(&t->core, r, now_s());
    free(r);
    tracker_debug(t, "route %ld: %zu holds", t->core.route.id, t->core.nholds);
    parameters_updated(t);
}

static void update_parameters(tracker *t, const json_t *msg)
{
    const json_t *p = json_object_get(msg, "parameters");
    if (!json_is_object(p))
        p = msg;
    tracker_params np = t->core.params;
    if (control_number(t, json_object_get(p, "proximity_threshold"),
                       "proximity_threshold", &np.proximity_threshold) < 0 ||
        control_number(t, json_object_get(p, "touch_duration"),
                       "touch_duration", &np.touch_duration) < 0)
        return;
    const json_t *rid = json_object_get(p, "route_id");
    if (rid && !json_is_null(rid) &&
        (!json_is_integer(rid) || json_integer_value(rid) < 1)) {
        reply_error(t, "route_id must be an integer >= 1");
        return;
    }
    tracker_core_set_params(&t->core, &np);
    tracker_debug(t, "parameters: proximity_threshold %g, touch_duration %g",
                  np.proximity_threshold, np.touch_duration);
    if (rid && json_is_integer(rid)) {
        t->pending++;
        wall_store_get_route(t->env->store, (long)json_integer_value(rid),
                             route_loaded, t);
        return;
    }
    parameters_updated(t);
}

static void control(tracker *t, const char *msg, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(msg, len, 0, &je);
    const json_t *type = json_object_get(j, "type");
    if (!type)
        type = json_object_get(j, "command");
    const char *ty = json_string_value(type);
    if (!json_is_object(j) || !ty) {
        reply_error(t, "control messages are JSON objects with a \"type\"");
    } else if (strcmp(ty, "reset_holds") == 0) {
        tracker_core_reset(&t->core, now_s());
        tracker_debug(t, "holds reset: a new attempt");
        send_session(t);
    } else if (strcmp(ty, "pause_output") == 0) {
        t->paused = 1;
        reply(t, json_pack("{s:s}", "type", "output_paused"));
    } else if (strcmp(ty, "resume_output") == 0) {
        t->paused = 0;
        reply(t, json_pack("{s:s}", "type", "output_resumed"));
        send_session(t);
    } else if (strcmp(ty, "update_parameters") == 0) {
        update_parameters(t, j);
    } else if (strcmp(ty, "get_status") == 0) {
        reply_status(t);
    } else if (strcmp(ty, "stop") == 0) {
        json_decref(j);
        tracker_end(t, "stop", 1);
        return;
    } else {
        reply_error(t, "unknown control message type '%s'", ty);
    }
    json_decref(j);
}

/* ---- sockets ---- */

static void on_frame(ws_client *c, const char *msg, size_t len, void *data)
{
    (void)c;
    tracker *t = data;
    uint64_t born = uv_hrtime();
    buf *out = &t->env->out;
    buf_reset(out);
    pose_frame_status st = tracker_core_frame(&t->core, msg, len, now_s(), out);
    if (st != POSE_FRAME_OK) {
        tracker_debug(t, "frame rejected: %s", pose_frame_status_name(st));
        return;
    }
    if (t->out && !t->paused)
        ws_client_send_latest(t->out, out->data, out->len, born);
}

static void on_sent(ws_client *c, uint64_t born_ns, void *data)
{
    (void)c;
    tracker *t = data;
    uint64_t ns = uv_hrtime() - born_ns;
    uint64_t b = ns / (TRACKER_LATENCY_STEP_US * 1000u);
    t->latency[b < TRACKER_LATENCY_BUCKETS ? b : TRACKER_LATENCY_BUCKETS - 1]++;
    if (ns > t->latency_max_ns)
        t->latency_max_ns = ns;
}

static void on_oversize(ws_client *c, void *data)
{
    (void)c;
    tracker *t = data;
    tracker_core_reject(&t->core, POSE_FRAME_TOO_LARGE);
    tracker_debug(t, "frame rejected: %s",
                  pose_frame_status_name(POSE_FRAME_TOO_LARGE));
}

static void on_control(ws_client *c, const char *msg, size_t len, void *data)
{
    (void)c;
    control(data, msg, len);
}

static void on_output_open(ws_client *c, void *data)
{
    tracker *t = data;
    tracker_debug(t, "connected to %s", ws_client_url(c));
    send_session(t); /* a restarted screen gets the state at once */
}

static void on_open(ws_client *c, void *data)
{
    tracker_debug((tracker *)data, "connected to %s", ws_client_url(c));
}

static void on_down(ws_client *c, const char *why, double retry_in, void *data)
{
    tracker *t = data;
    task_run_log(t->run, LOG_LEVEL_INFO, "%s: %s; retrying in %gs",
                 ws_client_url(c), why, retry_in);
}

static void open_sockets(tracker *t)
{
    static const ws_client_cbs in_cbs = {.on_open = on_open,
                                         .on_message = on_frame,
                                         .on_oversize = on_oversize,
                                         .on_down = on_down};
    static const ws_client_cbs out_cbs = {
        .on_open = on_output_open, .on_sent = on_sent, .on_down = on_down};
    static const ws_client_cbs ctl_cbs = {
        .on_open = on_open, .on_message = on_control, .on_down = on_down};
    double d = t->args.reconnect_delay;
    t->out = ws_client_open(t->env->hub, t->args.output_url, d,
                            TRACKER_CONTROL_MAX_BYTES, &out_cbs, t);
    t->in = ws_client_open(t->env->hub, t->args.input_url, d,
                           POSE_FRAME_MAX_BYTES, &in_cbs, t);
    if (t->args.control_url)
        t->ctl = ws_client_open(t->env->hub, t->args.control_url, d,
                                TRACKER_CONTROL_MAX_BYTES, &ctl_cbs, t);
}

/* ---- setup ---- */

static void begin(tracker *t, route *r)
{
    t->started = now_s();
    tracker_core_init(&t->core, t->wall, r, &t->args.params, t->started);
    t->wall = NULL;
    t->core_ready = 1;
    free(r);
    task_run_log(t->run, LOG_LEVEL_INFO,
                 "tracking wall %ld (%zu holds, following %zu): %s -> %s",
                 t->args.wall_id, t->core.wall->svg.nholds, t->core.nholds,
                 t->args.input_url, t->args.output_url);
    t->progress_at = t->started;
    send_progress(t, t->started);
    uv_timer_start(&t->progress, progress_tick, TRACKER_PROGRESS_MS,
                   TRACKER_PROGRESS_MS);
    open_sockets(t);
}

/* The Python exception a Django task would raise for a store failure. */
static const char *store_exception(wall_store_status st)
{
    switch (st) {
    case WALL_STORE_NOT_FOUND:
        return "LookupError";
    case WALL_STORE_UNAVAILABLE:
        return "OSError";
    default:
        return "ValueError";
    }
}

static void got_route(void *data, route *r, wall_store_status st,
                      const char *err)
{
    tracker *t = data;
    if (!store_answered(t))
        discard_route(r);
    else if (!r)
        fail_setup(t, store_exception(st), err);
    else
        begin(t, r);
}

static void got_wall(void *data, wall *w, wall_store_status st, const char *err)
{
    tracker *t = data;
    if (!store_answered(t)) {
        wall_unref(w);
        return;
    }
    if (!w) {
        fail_setup(t, store_exception(st), err);
        return;
    }
    t->wall = w;
    if (t->args.route_data) {
        route *r = xmalloc(sizeof(*r));
        buf rerr;
        buf_init(&rerr);
        if (route_from_json(t->args.route_data, t->args.route_id, "", r,
                            &rerr) < 0) {
            free(r);
            buf_printf(&rerr, " (route_data)");
            fail_setup(t, "ValueError", rerr.data);
        } else {
            begin(t, r);
        }
        buf_free(&rerr);
    } else if (t->args.route_id) {
        t->pending++;
        wall_store_get_route(t->env->store, t->args.route_id, got_route, t);
    } else {
        begin(t, NULL);
    }
}

static void tracker_start(task_run *run)
{
    tracker *t = xcalloc(1, sizeof(*t));
    t->run = run;
    t->env = task_run_def_data(run);
    uv_timer_init(t->env->loop, &t->progress);
    t->progress.data = t;
    task_run_set_data(run, t);
    const char *exc = "TypeError";
    buf err;
    buf_init(&err);
    if (tracker_args_parse(task_run_args(run), task_run_kwargs(run), &t->args,
                           &exc, &err) < 0) {
        fail_setup(t, exc, err.data);
    } else if (!t->env->store) {
        fail_setup(t, "RuntimeError",
                   "posetrackd has no wall store: start it with "
                   "--wall-store DIR");
    } else {
        task_run_set_debug(run, t->args.debug);
        t->pending++;
        wall_store_get_wall(t->env->store, t->args.wall_id, got_wall, t);
    }
    buf_free(&err);
}

static void tracker_cancel(task_run *run, task_cancel_reason why)
{
    tracker *t = task_run_data(run);
    if (!t || !t->run)
        return;
    const char *by = why == TASK_CANCEL_REVOKED           ? "revoke"
                     : why == TASK_CANCEL_SOFT_TIME_LIMIT ? "time_limit"
                                                          : "shutdown";
    if (!t->core_ready) {
        char msg[64];
        snprintf(msg, sizeof(msg), "stopped (%s) before it started", by);
        fail_setup(t, "RuntimeError", msg);
        return;
    }
    tracker_end(t, by, 1);
}

/* A hard limit or a forced stop: the worker reports the outcome; the
 * session still ends and its screen still gets the final frame. */
static void tracker_abort(task_run *run)
{
    tracker *t = task_run_data(run);
    if (!t || !t->run)
        return;
    if (t->core_ready) {
        tracker_end(t, "abort", 0);
        return;
    }
    t->run = NULL;
    tracker_release(t);
}

int tracker_task_setup(uv_loop_t *loop, wall_store *store, const char *ca_file,
                       double ping_interval, buf *err)
{
    tracker_env *env = &env_storage;
    env->loop = loop;
    env->store = store;
    env->hub = ws_hub_new(loop, ca_file, ping_interval);
    buf_init(&env->out);
    const char *names[] = {TRACKER_TASK_NAME, TRACKER_TASK_SHORT_NAME};
    for (size_t i = 0; i < 2; i++) {
        defs[i] = (task_def){names[i], tracker_start, tracker_cancel,
                             tracker_abort, env};
        if (task_registry_add(&defs[i]) < 0) {
            buf_printf(err, "task %s registered twice", names[i]);
            return -1;
        }
    }
    return 0;
}

void tracker_task_teardown(void)
{
    tracker_env *env = &env_storage;
    ws_hub_free(env->hub);
    wall_store_close(env->store);
    buf_free(&env->out);
    memset(env, 0, sizeof(*env));
}
