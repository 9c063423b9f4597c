/* events: every event carries hostname, utcoffset, pid, clock (a Lamport
 * clock, forwarded on each send), timestamp and type, in a kombu envelope
 * with the hostname header, as Celery's EventDispatcher.publish writes it.
 * Events are fire-and-forget (transient), so a broker that cannot send now
 * drops them, as Celery does without buffer_while_offline. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kombu_envelope.h"
#include "version.h"

struct events {
    broker *broker;
    char *hostname;
    int task_events;
    int started; /* worker-online sent */
    unsigned long *clock;
    unsigned long sent;
    uv_timer_t heart;
    events_stats_cb stats;
    void *data;
};

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Hours east of UTC with DST, as celery.utils.time.utcoffset (which
 * returns minus the offset in hours, i.e. hours west). */
static long utcoffset_hours(void)
{
    time_t t = time(NULL);
    struct tm lt;
    localtime_r(&t, &lt);
    return -(long)(lt.tm_gmtoff / 3600);
}

static void publish(events *e, const char *type, json_t *fields)
{
    json_object_set_new(fields, "hostname", json_string(e->hostname));
    json_object_set_new(fields, "utcoffset", json_integer(utcoffset_hours()));
    json_object_set_new(fields, "pid", json_integer(getpid()));
    json_object_set_new(fields, "clock",
                        json_integer((json_int_t)++ * e->clock));
    json_object_set_new(fields, "timestamp", json_real(now_seconds()));
    json_object_set_new(fields, "type", json_string(type));
    char rk[64], tag[96];
    snprintf(rk, sizeof(rk), "%s", type);
    for (char *p = rk; *p; p++)
        if (*p == '-')
            *p = '.';
    snprintf(tag, sizeof(tag), "%s-ev-%lu", e->hostname, ++e->sent);
    json_t *headers = json_pack("{s:s}", "hostname", e->hostname);
    kombu_envelope env = {fields, headers, "celeryev",
                          rk,     tag,     KOMBU_DELIVERY_TRANSIENT};
    buf out;
    buf_init(&out);
    kombu_envelope_encode(&out, &env);
    e->broker->ops->publish_fanout(e->broker, "celeryev", rk,
                                   out.data ? out.data : "", out.len);
    buf_free(&out);
    json_decref(headers);
    json_decref(fields);
}

static json_t *worker_fields(events *e)
{
    unsigned long active = 0, processed = 0;
    if (e->stats)
        e->stats(e->data, &active, &processed);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = load[1] = load[2] = 0;
    struct utsname un;
    uname(&un);
    return json_pack(
        "{s:f, s:i, s:i, s:[f,f,f], s:s, s:s, s:s}", "freq",
        EVENTS_HEARTBEAT_SECONDS, "active", (json_int_t)active, "processed",
        (json_int_t)processed, "loadavg", (double)(long)(load[0] * 100) / 100,
        (double)(long)(load[1] * 100) / 100,
        (double)(long)(load[2] * 100) / 100, "sw_ident", "posetrackd", "sw_ver",
        POSETRACKD_VERSION, "sw_sys", un.sysname);
}

static void on_heart(uv_timer_t *t)
{
    events_heartbeat(t->data);
}

events *events_new(uv_loop_t *loop, broker *b, const char *hostname,
                   int task_events, unsigned long *clock, events_stats_cb stats,
                   void *data)
{
    events *e = xcalloc(1, sizeof(*e));
    e->broker = b;
    e->hostname = xstrdup(hostname);
    e->task_events = task_events;
    e->clock = clock;
    e->stats = stats;
    e->data = data;
    uv_timer_init(loop, &e->heart);
    e->heart.data = e;
    return e;
}

void events_start(events *e)
{
    e->started = 1;
    publish(e, "worker-online", worker_fields(e));
    uint64_t ms = (uint64_t)(EVENTS_HEARTBEAT_SECONDS * 1000);
    uv_timer_start(&e->heart, on_heart, ms, ms);
}

int events_task_enabled(const events *e)
{
    return e->task_events;
}

int events_set_task_enabled(events *e, int on)
{
    int changed = e->task_events != on;
    e->task_events = on;
    return changed;
}

void events_send(events *e, const char *type, json_t *fields)
{
    if (strncmp(type, "task-", 5) == 0 && !e->task_events) {
        json_decref(fields);
        return;
    }
    publish(e, type, fields);
}

void events_heartbeat(events *e)
{
    publish(e, "worker-heartbeat", worker_fields(e));
}

static void events_closed(uv_handle_t *h)
{
    events *e = h->data;
    free(e->hostname);
    free(e);
}

void events_close(events *e)
{
    uv_timer_stop(&e->heart);
    if (e->started)
        publish(e, "worker-offline", worker_fields(e));
    uv_close((uv_handle_t *)&e->heart, events_closed);
}
