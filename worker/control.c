/* control: kombu's Redis transport delivers fanout exchanges over PUB/SUB:
 * the celery.pidbox exchange is the channel "/<db>.celery.pidbox", which
 * every worker subscribes to. A reply goes to the direct exchange named in
 * reply_to: the queues bound to it with the routing key (the
 * _kombu.binding.* set) get the reply envelope pushed, which the caller
 * pops. Commands run on the loop thread against the worker's own state.
 *
 * Malformed requests are logged and dropped; a request for another node is
 * ignored; an unknown command is answered with an error, as Celery does. */
#include "control.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "buf.h"
#include "events.h"
#include "isotime.h"
#include "log.h"
#include "pidbox.h"
#include "redis_client.h"
#include "redis_url.h"
#include "task_registry.h"
#include "worker_internal.h"
#include "version.h"
#include "worker.h"

struct control {
    worker *w;
    int db;
    redis_client *sub;
    redis_client *cmd;
    unsigned long replies;
};

/* Pushes the reply to every queue bound to the reply exchange with the
 * routing key, as kombu's direct exchange lookup does. */
static const char reply_script[] =
    "local sep = '\\6\\22'\n"
    "local n = 0\n"
    "for _, m in ipairs(redis.call('SMEMBERS', '_kombu.binding.' .. "
    "ARGV[1])) do\n"
    "  local a = string.find(m, sep, 1, true)\n"
    "  local b = a and string.find(m, sep, a + 2, true)\n"
    "  if b and string.sub(m, 1, a - 1) == ARGV[2] then\n"
    "    redis.call('LPUSH', string.sub(m, b + 2), ARGV[3])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

static json_t *ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *ok(const char *fmt, ...)
{
    buf b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    json_t *r = json_pack("{s:s}", "ok", b.data ? b.data : "");
    buf_free(&b);
    return r;
}

/* A span of the message body as a JSON value; big integers become reals
 * rather than failing. */
static json_t *span_json(json_span v)
{
    json_t *j = json_loadb(v.p, v.len, JSON_DECODE_ANY, NULL);
    if (!j)
        j = json_loadb(v.p, v.len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                       NULL);
    return j ? j : json_null();
}

/* Request.info() of Celery: a request not started yet has no start time
 * or pid (null); redelivered is true or null, as kombu leaves it. */
static json_t *request_info(const struct task_run *r)
{
    int running = r->state == REQUEST_RUNNING;
    json_t *no = json_null();
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:b, s:{s:s, s:s, s:i, s:o}, "
        "s:o}",
        "id", r->msg.id, "name", r->msg.task, "args", span_json(r->msg.args),
        "kwargs", span_json(r->msg.kwargs), "type", r->msg.task, "hostname",
        r->w->cfg->hostname, "time_start",
        running ? json_real(r->time_start) : no, "acknowledged", r->acked,
        "delivery_info", "exchange", r->msg.exchange ? r->msg.exchange : "",
        "routing_key", r->msg.routing_key ? r->msg.routing_key : "", "priority",
        r->msg.priority, "redelivered", r->msg.redelivered ? json_true() : no,
        "worker_pid", running ? json_integer(getpid()) : no);
}

/* Request.info() of every live request in state. */
static json_t *requests_in(control *c, request_state state)
{
    json_t *list = json_array();
    for (struct task_run *r = c->w->requests; r; r = r->next)
        if (r->state == state && !r->finished)
            json_array_append_new(list, request_info(r));
    return list;
}

static json_t *cmd_active(control *c, json_t *args)
{
    (void)args;
    return requests_in(c, REQUEST_RUNNING);
}

static json_t *cmd_reserved(control *c, json_t *args)
{
    (void)args;
    return requests_in(c, REQUEST_READY);
}

static json_t *cmd_scheduled(control *c, json_t *args)
{
    (void)args;
    json_t *list = json_array();
    for (struct task_run *r = c->w->requests; r; r = r->next)
        if (r->state == REQUEST_ETA && !r->finished)
            json_array_append_new(list, json_pack("{s:o, s:i, s:o}", "eta",
                                                  isotime_utc_json(r->msg.eta),
                                                  "priority", r->msg.priority,
                                                  "request", request_info(r)));
    return list;
}

static json_t *cmd_revoked(control *c, json_t *args)
{
    (void)args;
    json_t *list = json_array();
    const char *id;
    json_t *v;
    json_object_foreach(c->w->revoked, id, v)
    {
        json_array_append_new(list, json_string(id));
    }
    return list;
}

static const char *state_name(const struct task_run *r)
{
    switch (r->state) {
    case REQUEST_RUNNING:
        return "active";
    case REQUEST_ETA:
        return "scheduled";
    default:
        return "reserved";
    }
}

static int id_wanted(json_t *ids, const char *id)
{
    size_t i;
    json_t *v;
    if (json_is_string(ids))
        return strcmp(json_string_value(ids), id) == 0;
    json_array_foreach(ids, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
            return 1;
    }
    return 0;
}

/* query_task(ids): {id: [state, info]} for the ids this worker holds. */
static json_t *cmd_query_task(control *c, json_t *args)
{
    json_t *ids = json_object_get(args, "ids");
    json_t *out = json_object();
    for (struct task_run *r = c->w->requests; r; r = r->next)
        if (r->msg.id && !r->finished && id_wanted(ids, r->msg.id))
            json_object_set_new(
                out, r->msg.id,
                json_pack("[s, o]", state_name(r), request_info(r)));
    return out;
}

/* Python's str() of a float: 10.0, 2.5. */
static void put_py_float(buf *b, double d)
{
    if (d == (long long)d)
        buf_printf(b, "%lld.0", (long long)d);
    else
        buf_printf(b, "%.17g", d);
}

/* One task attribute for registered's taskinfoitems, or 0 when it is None
 * (exchange and routing_key are None for every task here, as for Celery's
 * tasks without their own routing). */
static int task_item(control *c, const char *task, const char *item, buf *out)
{
    json_t *limits = json_object_get(c->w->limits, task);
    if (strcmp(item, "rate_limit") == 0) {
        const char *r = worker_rate_limit(c->w, task);
        if (!r)
            return 0;
        buf_append_str(out, r);
        return 1;
    }
    int soft = strcmp(item, "soft_time_limit") == 0;
    if (soft || strcmp(item, "time_limit") == 0) {
        double v = json_number_value(json_array_get(limits, soft ? 0 : 1));
        if (v <= 0)
            return 0;
        put_py_float(out, v);
        return 1;
    }
    return 0;
}

/* registered(taskinfoitems): "name [item=value ...]" for the items that
 * are set, as Celery formats them. */
static json_t *cmd_registered(control *c, json_t *args)
{
    static const char *const defaults[] = {"exchange", "routing_key",
                                           "rate_limit"};
    json_t *items = json_object_get(args, "taskinfoitems");
    json_t *list = json_array();
    for (size_t i = 0; i < task_registry_count(); i++) {
        const char *name = task_registry_at(i)->name;
        buf line, value;
        buf_init(&line);
        buf_init(&value);
        size_t n = json_is_array(items) && json_array_size(items)
                       ? json_array_size(items)
                       : 3;
        int shown = 0;
        for (size_t k = 0; k < n; k++) {
            const char *item = json_is_array(items) && json_array_size(items)
                                   ? json_string_value(json_array_get(items, k))
                                   : defaults[k];
            buf_reset(&value);
            if (!item || !task_item(c, name, item, &value))
                continue;
            buf_printf(&line, "%s%s=%s", shown++ ? " " : "", item, value.data);
        }
        json_t *s = shown ? json_sprintf("%s [%s]", name, line.data)
                          : json_string(name);
        json_array_append_new(list, s);
        buf_free(&line);
        buf_free(&value);
    }
    return list;
}

static json_t *cmd_ping(control *c, json_t *args)
{
    (void)c;
    (void)args;
    return ok("pong");
}

/* revoke(task_id, terminate=False, signal=None): task_id is one id or a
 * list of ids. */
static json_t *cmd_revoke(control *c, json_t *args)
{
    json_t *ids = json_object_get(args, "task_id");
    int terminate = json_is_true(json_object_get(args, "terminate"));
    const char *sig = json_string_value(json_object_get(args, "signal"));
    json_t *list = json_is_array(ids) ? json_incref(ids) : json_array();
    if (json_is_string(ids))
        json_array_append(list, ids);
    buf idstr, done;
    buf_init(&idstr);
    buf_init(&done);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *id = json_string_value(v);
        int rc = worker_revoke(c->w, id, terminate, sig);
        if (rc < 0)
            continue;
        buf_printf(&idstr, "%s%s", idstr.len ? ", " : "", id);
        if (rc > 0)
            buf_printf(&done, "%s%s", done.len ? ", " : "", id);
    }
    json_decref(list);
    json_t *r;
    if (terminate)
        r = done.len ? ok("terminate: %s", done.data)
                     : ok("terminate: tasks unknown");
    else
        r = ok("tasks %s flagged as revoked", idstr.data ? idstr.data : "");
    if (idstr.len)
        log_info("Tasks flagged as revoked: %s", idstr.data);
    buf_free(&idstr);
    buf_free(&done);
    return r;
}

static json_t *cmd_terminate(control *c, json_t *args)
{
    json_t *a = json_deep_copy(args);
    json_object_set_new(a, "terminate", json_true());
    json_t *r = cmd_revoke(c, a);
    json_decref(a);
    return r;
}

static json_t *nok(const char *msg)
{
    return json_pack("{s:s}", "error", msg);
}

static json_t *cmd_clock(control *c, json_t *args)
{
    (void)args;
    return json_pack("{s:I}", "clock", (json_int_t)c->w->clock);
}

static json_t *rusage_json(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return json_pack(
        "{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:I}",
        "utime", u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6, "stime",
        u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6, "maxrss",
        (json_int_t)u.ru_maxrss, "ixrss", (json_int_t)u.ru_ixrss, "idrss",
        (json_int_t)u.ru_idrss, "isrss", (json_int_t)u.ru_isrss, "minflt",
        (json_int_t)u.ru_minflt, "majflt", (json_int_t)u.ru_majflt, "nswap",
        (json_int_t)u.ru_nswap, "inblock", (json_int_t)u.ru_inblock, "oublock",
        (json_int_t)u.ru_oublock, "msgsnd", (json_int_t)u.ru_msgsnd, "msgrcv",
        (json_int_t)u.ru_msgrcv, "nsignals", (json_int_t)u.ru_nsignals, "nvcsw",
        (json_int_t)u.ru_nvcsw, "nivcsw", (json_int_t)u.ru_nivcsw);
}

/* The broker part of stats, as kombu's Connection.info() shows it. */
static json_t *broker_info(control *c)
{
    const config *cfg = c->w->cfg;
    redis_url u;
    buf err;
    buf_init(&err);
    json_t *info;
    char vhost[16];
    if (redis_url_parse(cfg->broker_url, &u, &err) != 0)
        memset(&u, 0, sizeof(u));
    snprintf(vhost, sizeof(vhost), "%d", u.db);
    info = json_pack(
        "{s:s?, s:s?, s:s, s:o, s:b, s:b, s:s, s:i, s:{}, s:n, s:n, s:f, "
        "s:s, s:[]}",
        "hostname", u.host ? u.host : u.socket, "userid", u.username,
        "virtual_host", vhost, "port",
        u.socket ? json_null() : json_integer(u.port), "insist", 0, "ssl", 0,
        "transport", "redis", "connect_timeout", 4, "transport_options",
        "login_method", "uri_prefix", "heartbeat", 120.0, "failover_strategy",
        "round-robin", "alternates");
    redis_url_free(&u);
    buf_free(&err);
    return info;
}

static json_t *cmd_stats(control *c, json_t *args)
{
    (void)args;
    worker *w = c->w;
    char clock[32];
    snprintf(clock, sizeof(clock), "%lu", w->clock);
    json_t *pool =
        json_pack("{s:i, s:[i], s:s, s:b, s:[f,f]}", "max-concurrency",
                  (int)w->concurrency, "processes", (int)getpid(),
                  "max-tasks-per-child", "N/A", "put-guarded-by-semaphore", 0,
                  "timeouts", w->cfg->soft_time_limit, w->cfg->time_limit);
    return json_pack("{s:O, s:i, s:s, s:I, s:o, s:o, s:I, s:o}", "total",
                     w->totals, "pid", (int)getpid(), "clock", clock, "uptime",
                     (json_int_t)(worker_now() - w->started_at), "pool", pool,
                     "broker", broker_info(c), "prefetch_count",
                     (json_int_t)w->prefetch_limit, "rusage", rusage_json());
}

/* kombu's Queue.as_dict(recurse=True) for the queues Celery declares. */
static json_t *queue_json(const char *name)
{
    return json_pack(
        "{s:s, s:{s:s, s:s, s:n, s:b, s:b, s:b, s:n, s:b}, s:s, s:n, s:n, "
        "s:n, s:b, s:b, s:b, s:b, s:n, s:[], s:n, s:n, s:n, s:n, s:n, s:n}",
        "name", name, "exchange", "name", name, "type", "direct", "arguments",
        "durable", 1, "passive", 0, "auto_delete", 0, "delivery_mode",
        "no_declare", 0, "routing_key", name, "queue_arguments",
        "binding_arguments", "consumer_arguments", "durable", 1, "exclusive", 0,
        "auto_delete", 0, "no_ack", 0, "alias", "bindings", "no_declare",
        "expires", "message_ttl", "max_length", "max_length_bytes",
        "max_priority");
}

static json_t *cmd_active_queues(control *c, json_t *args)
{
    (void)args;
    size_t n;
    const char *const *queues = c->w->broker->ops->queues(c->w->broker, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, queue_json(queues[i]));
    return list;
}

/* Queues are bound to a direct exchange of their own name with their name
 * as routing key, as Celery declares queues it creates on demand. */
static json_t *cmd_add_consumer(control *c, json_t *args)
{
    const char *q = json_string_value(json_object_get(args, "queue"));
    if (!q || !*q || strlen(q) > CELERY_MSG_MAX_NAME)
        return nok("add_consumer needs a queue name");
    if (c->w->broker->ops->add_queue(c->w->broker, q) == 0)
        log_info("Started consuming from %s", q);
    return ok("add consumer %s", q);
}

static json_t *cmd_cancel_consumer(control *c, json_t *args)
{
    const char *q = json_string_value(json_object_get(args, "queue"));
    if (!q)
        return nok("cancel_consumer needs a queue name");
    if (c->w->broker->ops->cancel_queue(c->w->broker, q) == 0)
        log_info("Canceled consumer for %s", q);
    return ok("no longer consuming from %s", q);
}

/* Our settings under Celery's names, as conf lists the changed ones. */
static json_t *cmd_conf(control *c, json_t *args)
{
    (void)args;
    const config *cfg = c->w->cfg;
    return json_pack(
        "{s:s, s:s, s:i, s:i, s:b, s:{s:f}, s:o, s:o, s:b, s:f, s:b, s:b, "
        "s:[]}",
        "broker_url", cfg->broker_url, "result_backend", cfg->result_backend,
        "worker_concurrency", (int)c->w->concurrency,
        "worker_prefetch_multiplier", (int)cfg->prefetch_multiplier,
        "task_acks_late", cfg->acks_late, "broker_transport_options",
        "visibility_timeout", cfg->visibility_timeout, "task_time_limit",
        cfg->time_limit > 0 ? json_real(cfg->time_limit) : json_null(),
        "task_soft_time_limit",
        cfg->soft_time_limit > 0 ? json_real(cfg->soft_time_limit)
                                 : json_null(),
        "task_track_started", cfg->track_started, "result_expires",
        cfg->result_expires, "result_extended", cfg->result_extended,
        "worker_send_task_events", cfg->task_events, "include");
}

static json_t *cmd_report(control *c, json_t *args)
{
    (void)args;
    struct utsname un;
    uname(&un);
    return ok("\nsoftware -> posetrackd:%s\nplatform -> system:%s arch:%s\n"
              "            kernel version:%s\nsettings -> transport:redis "
              "results:%s\n\nbroker_url: '%s'\nresult_backend: '%s'\n",
              POSETRACKD_VERSION, un.sysname, un.machine, un.release,
              c->w->cfg->result_backend, c->w->cfg->broker_url,
              c->w->cfg->result_backend);
}

/* A numeric argument, as the celery CLI sends them (numbers or strings);
 * dflt when absent or not a number. */
static double arg_number(json_t *args, const char *key, double dflt)
{
    json_t *v = json_object_get(args, key);
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);
        if (end != json_string_value(v) && !*end && isfinite(d))
            return d;
    }
    return dflt;
}

static unsigned arg_uint(json_t *args, const char *key, unsigned dflt)
{
    double d = arg_number(args, key, dflt);
    return d >= 1 && d <= 1000000 ? (unsigned)d : dflt;
}

static json_t *cmd_pool_grow(control *c, json_t *args)
{
    worker_set_concurrency(c->w, c->w->concurrency + arg_uint(args, "n", 1));
    return ok("pool will grow");
}

static json_t *cmd_pool_shrink(control *c, json_t *args)
{
    unsigned n = arg_uint(args, "n", 1);
    worker_set_concurrency(c->w,
                           c->w->concurrency > n ? c->w->concurrency - n : 1);
    return ok("pool will shrink");
}

/* Celery's autoscaler grows and shrinks processes between min and max;
 * a slot here costs nothing idle, so the limit becomes max. */
static json_t *cmd_autoscale(control *c, json_t *args)
{
    unsigned max = arg_uint(args, "max", c->w->concurrency);
    unsigned min = arg_uint(args, "min", max);
    worker_set_concurrency(c->w, max);
    return ok("autoscale now max=%u min=%u", max, min < max ? min : max);
}

static double arg_seconds(json_t *args, const char *key)
{
    double d = arg_number(args, key, 0);
    return d > 0 && d < 1e9 ? d : 0;
}

static json_t *cmd_time_limit(control *c, json_t *args)
{
    const char *name = json_string_value(json_object_get(args, "task_name"));
    if (!name || !task_registry_find(name)) {
        log_error("Change time limit attempt for unknown task %s",
                  name ? name : "(none)");
        return nok("unknown task");
    }
    double soft = arg_seconds(args, "soft"), hard = arg_seconds(args, "hard");
    json_object_set_new(c->w->limits, name, json_pack("[f,f]", soft, hard));
    log_info("New time limits for tasks of type %s: soft=%g hard=%g", name,
             soft, hard);
    return ok("time limits set successfully");
}

/* Celery's rate strings: "10/s", "100/m", "5/h", or a number per
 * second; "" or 0 removes the limit. Returns the interval in seconds
 * between starts (0 = none), or -1 if the string is invalid. */
static double parse_rate(json_t *v)
{
    if (json_is_number(v)) {
        double n = json_number_value(v);
        return n > 0 ? 1.0 / n : n == 0 ? 0 : -1;
    }
    const char *s = json_string_value(v);
    if (!s)
        return json_is_null(v) ? 0 : -1;
    if (!*s)
        return 0;
    char *end;
    double n = strtod(s, &end);
    double per = 1;
    if (end == s || n < 0)
        return -1;
    if (*end == '/') {
        if (strcmp(end + 1, "s") == 0)
            per = 1;
        else if (strcmp(end + 1, "m") == 0)
            per = 60;
        else if (strcmp(end + 1, "h") == 0)
            per = 3600;
        else
            return -1;
    } else if (*end) {
        return -1;
    }
    return n > 0 ? per / n : 0;
}

static json_t *cmd_rate_limit(control *c, json_t *args)
{
    const char *name = json_string_value(json_object_get(args, "task_name"));
    json_t *rate = json_object_get(args, "rate_limit");
    double interval = parse_rate(rate);
    if (interval < 0) {
        buf e;
        buf_init(&e);
        buf_printf(&e, "Invalid rate limit string: ValueError(\"%.60s\")",
                   json_string_value(rate) ? json_string_value(rate) : "?");
        json_t *r = nok(e.data);
        buf_free(&e);
        return r;
    }
    if (!name || !task_registry_find(name)) {
        log_error("Rate limit attempt for unknown task %s",
                  name ? name : "(none)");
        return nok("unknown task");
    }
    char text[64];
    if (json_is_number(rate))
        snprintf(text, sizeof(text), "%g", json_number_value(rate));
    else
        snprintf(text, sizeof(text), "%.60s",
                 json_string_value(rate) ? json_string_value(rate) : "");
    worker_set_rate_limit(c->w, name, interval, text);
    if (interval == 0) {
        log_info("Rate limits disabled for tasks of type %s", name);
        return ok("rate limit disabled successfully");
    }
    log_info("New rate limit for tasks of type %s: %s.", name,
             json_string_value(rate) ? json_string_value(rate) : "");
    return ok("new rate limit set successfully");
}

/* Celery raises WorkerShutdown: no reply is sent. */
static json_t *cmd_shutdown(control *c, json_t *args)
{
    (void)args;
    log_warning("Got shutdown from remote");
    worker_shutdown(c->w, 0);
    return NULL;
}

/* The mingle exchange: merge the caller's revoked ids and answer with
 * ours, as LimitedSet._data ({id: [time, id]}). */
static json_t *cmd_hello(control *c, json_t *args)
{
    const char *from = json_string_value(json_object_get(args, "from_node"));
    if (!from || strcmp(from, c->w->cfg->hostname) == 0)
        return json_null();
    log_info("sync with %s", from);
    json_t *theirs = json_object_get(args, "revoked");
    const char *id;
    json_t *v;
    if (json_is_object(theirs))
        json_object_foreach(theirs, id, v)
        {
            worker_revoke(c->w, id, 0, NULL);
        }
    json_t *mine = json_object();
    json_object_foreach(c->w->revoked, id, v)
    {
        json_object_set_new(mine, id,
                            json_pack("[f,s]", json_number_value(v), id));
    }
    return json_pack("{s:o, s:I}", "revoked", mine, "clock",
                     (json_int_t)++c->w->clock);
}

static json_t *set_task_events(control *c, int on)
{
    const char *what = on ? "enabled" : "disabled";
    if (!c->w->events || !events_set_task_enabled(c->w->events, on))
        return ok("task events already %s", what);
    log_info("Events of group {task} %s by remote.", what);
    return ok("task events %s", what);
}

static json_t *cmd_enable_events(control *c, json_t *args)
{
    (void)args;
    return set_task_events(c, 1);
}

static json_t *cmd_disable_events(control *c, json_t *args)
{
    (void)args;
    return set_task_events(c, 0);
}

/* Celery's heartbeat command returns None: the reply is {node: null}. */
static json_t *cmd_heartbeat(control *c, json_t *args)
{
    (void)args;
    if (c->w->events)
        events_heartbeat(c->w->events);
    return json_null();
}

typedef struct command {
    const char *name;
    json_t *(*run)(control *c, json_t *args);
} command;

static const command commands[] = {
    {"active", cmd_active},
    {"ping", cmd_ping},
    {"registered", cmd_registered},
    {"dump_tasks", cmd_registered},
    {"revoke", cmd_revoke},
    {"terminate", cmd_terminate},
    {"reserved", cmd_reserved},
    {"scheduled", cmd_scheduled},
    {"dump_schedule", cmd_scheduled},
    {"revoked", cmd_revoked},
    {"dump_revoked", cmd_revoked},
    {"query_task", cmd_query_task},
    {"enable_events", cmd_enable_events},
    {"disable_events", cmd_disable_events},
    {"heartbeat", cmd_heartbeat},
    {"clock", cmd_clock},
    {"stats", cmd_stats},
    {"active_queues", cmd_active_queues},
    {"conf", cmd_conf},
    {"dump_conf", cmd_conf},
    {"report", cmd_report},
    {"pool_grow", cmd_pool_grow},
    {"pool_shrink", cmd_pool_shrink},
    {"autoscale", cmd_autoscale},
    {"time_limit", cmd_time_limit},
    {"rate_limit", cmd_rate_limit},
    {"add_consumer", cmd_add_consumer},
    {"cancel_consumer", cmd_cancel_consumer},
    {"shutdown", cmd_shutdown},
    {"hello", cmd_hello},
};

static json_t *dispatch(control *c, const pidbox_request *req)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, req->method) == 0)
            return commands[i].run(c, req->arguments);
    /* Celery's Panel looks the handler up in a dict: the error is the
     * repr of its KeyError. */
    log_warning("control: no such command '%.80s'", req->method);
    buf e;
    buf_init(&e);
    buf_printf(&e, "KeyError('%.80s')", req->method);
    json_t *r = nok(e.data);
    buf_free(&e);
    return r;
}

static void send_reply(control *c, const pidbox_request *req, json_t *reply)
{
    char tag[64];
    snprintf(tag, sizeof(tag), "%s-reply-%lu", c->w->cfg->hostname,
             ++c->replies);
    buf env;
    buf_init(&env);
    pidbox_reply_encode(&env, c->w->cfg->hostname, reply, req, tag);
    const char *argv[] = {"EVAL",
                          reply_script,
                          "0",
                          req->reply_exchange,
                          req->reply_routing_key,
                          env.data ? env.data : ""};
    size_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = strlen(argv[i]);
    lens[5] = env.len;
    if (redis_client_command(c->cmd, NULL, NULL, 6, argv, lens) != 0)
        log_warning("control: cannot send the reply to %s (no connection)",
                    req->method);
    buf_free(&env);
}

static void handle(control *c, const char *raw, size_t len)
{
    pidbox_request req;
    buf err;
    buf_init(&err);
    if (pidbox_request_decode(raw, len, &req, &err) != 0) {
        log_error("control: dropped a malformed control message: %s", err.data);
        buf_free(&err);
        return;
    }
    buf_free(&err);
    if (pidbox_request_is_for(&req, c->w->cfg->hostname)) {
        log_debug("control: %s", req.method);
        json_t *reply = dispatch(c, &req);
        if (req.ticket && reply)
            send_reply(c, &req, reply);
        json_decref(reply);
    }
    pidbox_request_free(&req);
}

static void on_pmessage(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    control *c = privdata;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "pmessage") != 0 ||
        r->element[3]->type != REDIS_REPLY_STRING)
        return; /* the subscription's confirmation, or the end */
    handle(c, r->element[3]->str, r->element[3]->len);
}

static void on_sub_state(redis_client *rc, int ready, void *data)
{
    control *c = data;
    if (!ready)
        return;
    char topic[64];
    snprintf(topic, sizeof(topic), "/%d.celery.pidbox", c->db);
    if (redis_client_psubscribe(rc, on_pmessage, c, topic) != 0)
        log_error("control: cannot subscribe to %s", topic);
}

control *control_new(uv_loop_t *loop, const redis_url *url, worker *w)
{
    control *c = xcalloc(1, sizeof(*c));
    c->w = w;
    c->db = url->db;
    c->sub = redis_client_new(loop, url, "control", on_sub_state, c);
    c->cmd = redis_client_new(loop, url, "control", NULL, c);
    return c;
}

void control_start(control *c)
{
    redis_client_start(c->sub);
    redis_client_start(c->cmd);
}

void control_close(control *c)
{
    redis_client_close(c->sub);
    redis_client_close(c->cmd);
    free(c);
}
