/* redis_client: hiredis async bound to libuv with our own small adapter
 * (hiredis 0.14's libuv adapter drops poll errors, which would leave a dead
 * connection unnoticed), plus reconnection with capped exponential backoff.
 *
 * Lifetime: the client owns its hiredis context and a reconnect timer. A
 * context is freed by hiredis after the disconnect callback; the client
 * itself is freed when the timer handle's close callback runs. */
#include "redis_client.h"

#include <hiredis/async.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "buf.h"
#include "log.h"

/* Backoff between reconnection attempts: start fast so a Redis restart
 * costs little, cap low so recovery after an outage is quick. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000
/* Reads of 16 KB one readable event may take (4 MiB). */
#define REDIS_READS_PER_TURN 256

struct redis_client {
    uv_loop_t *loop;
    redis_url url;
    char *name;
    redisAsyncContext *ac;
    int ready;
    int closing;
    unsigned backoff_ms;
    uv_timer_t timer;
    redis_client_state_cb state_cb;
    void *data;
};

typedef struct uv_events {
    redisAsyncContext *ac;
    uv_poll_t poll;
    int events;
} uv_events;

/* Bytes the kernel holds for fd (0 on error). */
static int bytes_waiting(int fd)
{
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

static void poll_cb(uv_poll_t *handle, int status, int events)
{
    uv_events *e = handle->data;
    if (!e->ac)
        return;
    /* On a poll error let hiredis read: it will see the socket error and
     * run the disconnect path. */
    if (status < 0 || (events & UV_READABLE)) {
        redisAsyncHandleRead(e->ac);
        /* hiredis reads 16 KB a call. With thousands of busy WebSocket
         * streams on the same loop (libuv reads each of them dry in a
         * turn), one read a turn starved the broker and the backend: a
         * 136 KB fetch reply took 20 s to come in. Read all there is. */
        for (int i = 0; i < REDIS_READS_PER_TURN && e->ac &&
                        bytes_waiting(e->ac->c.fd) > 0;
             i++)
            redisAsyncHandleRead(e->ac);
    }
    if (e->ac && status >= 0 && (events & UV_WRITABLE))
        redisAsyncHandleWrite(e->ac);
}

static void events_update(uv_events *e, int add, int flag)
{
    e->events = add ? (e->events | flag) : (e->events & ~flag);
    if (e->events)
        uv_poll_start(&e->poll, e->events, poll_cb);
    else
        uv_poll_stop(&e->poll);
}

static void ev_add_read(void *p)
{
    events_update(p, 1, UV_READABLE);
}

static void ev_del_read(void *p)
{
    events_update(p, 0, UV_READABLE);
}

static void ev_add_write(void *p)
{
    events_update(p, 1, UV_WRITABLE);
}

static void ev_del_write(void *p)
{
    events_update(p, 0, UV_WRITABLE);
}

static void events_closed(uv_handle_t *h)
{
    free(h->data);
}

static void ev_cleanup(void *p)
{
    uv_events *e = p;
    e->ac = NULL;
    uv_close((uv_handle_t *)&e->poll, events_closed);
}

static int attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    uv_events *e = xcalloc(1, sizeof(*e));
    if (uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
        free(e);
        return -1;
    }
    e->ac = ac;
    e->poll.data = e;
    ac->ev.data = e;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
}

static void schedule_reconnect(redis_client *rc);

static void set_ready(redis_client *rc, int ready)
{
    if (rc->ready == ready)
        return;
    rc->ready = ready;
    if (rc->state_cb)
        rc->state_cb(rc, ready, rc->data);
}

/* The SELECT reply is the last of the set-up commands: once it is OK the
 * connection is usable. */
static void on_setup_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redis_client *rc = ac->data;
    redisReply *reply = r;
    int last = privdata != NULL;
    if (!reply || !rc)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        log_error("%s: Redis refused the connection set-up: %.*s", rc->name,
                  (int)reply->len, reply->str);
        redisAsyncDisconnect(ac);
        return;
    }
    if (last) {
        rc->backoff_ms = RECONNECT_MIN_MS;
        log_info("%s: connected to Redis", rc->name);
        set_ready(rc, 1);
    }
}

static void send_setup(redis_client *rc)
{
    static char last_marker;
    if (rc->url.password) {
        if (rc->url.username)
            redisAsyncCommand(rc->ac, on_setup_reply, NULL, "AUTH %s %s",
                              rc->url.username, rc->url.password);
        else
            redisAsyncCommand(rc->ac, on_setup_reply, NULL, "AUTH %s",
                              rc->url.password);
    }
    redisAsyncCommand(rc->ac, on_setup_reply, &last_marker, "SELECT %d",
                      rc->url.db);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    redis_client *rc = ac->data;
    if (!rc)
        return;
    if (status != REDIS_OK) {
        log_warning("%s: cannot connect to Redis: %s; retrying in %u ms",
                    rc->name, ac->errstr, rc->backoff_ms);
        rc->ac = NULL;
        schedule_reconnect(rc);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_client *rc = ac->data;
    if (!rc)
        return;
    rc->ac = NULL;
    int was_ready = rc->ready;
    set_ready(rc, 0);
    if (status != REDIS_OK || was_ready)
        log_warning("%s: lost the Redis connection (%s); reconnecting",
                    rc->name, ac->errstr[0] ? ac->errstr : "closed");
    schedule_reconnect(rc);
}

static void connect_now(redis_client *rc)
{
    redisAsyncContext *ac = rc->url.socket
                                ? redisAsyncConnectUnix(rc->url.socket)
                                : redisAsyncConnect(rc->url.host, rc->url.port);
    if (!ac || ac->err) {
        log_warning("%s: cannot connect to Redis: %s", rc->name,
                    ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        schedule_reconnect(rc);
        return;
    }
    ac->data = rc;
    if (attach(ac, rc->loop) != 0) {
        redisAsyncFree(ac);
        schedule_reconnect(rc);
        return;
    }
    rc->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    send_setup(rc);
}

static void on_timer(uv_timer_t *t)
{
    redis_client *rc = t->data;
    connect_now(rc);
}

static void schedule_reconnect(redis_client *rc)
{
    if (rc->closing)
        return;
    uv_timer_start(&rc->timer, on_timer, rc->backoff_ms, 0);
    rc->backoff_ms *= 2;
    if (rc->backoff_ms > RECONNECT_MAX_MS)
        rc->backoff_ms = RECONNECT_MAX_MS;
}

redis_client *redis_client_new(uv_loop_t *loop, const redis_url *url,
                               const char *name, redis_client_state_cb cb,
                               void *data)
{
    redis_client *rc = xcalloc(1, sizeof(*rc));
    rc->loop = loop;
    redis_url_copy(&rc->url, url);
    rc->name = xstrdup(name);
    rc->state_cb = cb;
    rc->data = data;
    rc->backoff_ms = RECONNECT_MIN_MS;
    uv_timer_init(loop, &rc->timer);
    rc->timer.data = rc;
    return rc;
}

void redis_client_start(redis_client *rc)
{
    connect_now(rc);
}

int redis_client_ready(const redis_client *rc)
{
    return rc->ready && rc->ac;
}

void *redis_client_data(const redis_client *rc)
{
    return rc->data;
}

/* The user's callback and privdata travel in a small request record. */
typedef struct command_req {
    redis_client *rc;
    redis_client_reply_cb cb;
    void *privdata;
    int persistent; /* a subscription: hiredis calls back many times */
} command_req;

static command_req *new_req(redis_client *rc, redis_client_reply_cb cb,
                            void *privdata, int persistent)
{
    command_req *req = xmalloc(sizeof(*req));
    req->rc = rc;
    req->cb = cb;
    req->privdata = privdata;
    req->persistent = persistent;
    return req;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    command_req *req = privdata;
    /* Called with NULL replies while the client closes too, so that every
     * owner of privdata gets it back. */
    if (req->cb)
        req->cb(req->rc, reply, req->privdata);
    /* hiredis releases a subscription's callback only when the connection
     * goes, with a NULL reply. */
    if (!req->persistent || !reply)
        free(req);
}

int redis_client_psubscribe(redis_client *rc, redis_client_reply_cb cb,
                            void *privdata, const char *pattern)
{
    if (!redis_client_ready(rc))
        return -1;
    command_req *req = new_req(rc, cb, privdata, 1);
    const char *argv[] = {"PSUBSCRIBE", pattern};
    size_t lens[] = {10, strlen(pattern)};
    if (redisAsyncCommandArgv(rc->ac, on_reply, req, 2, argv, lens) !=
        REDIS_OK) {
        free(req);
        return -1;
    }
    return 0;
}

int redis_client_command(redis_client *rc, redis_client_reply_cb cb,
                         void *privdata, int argc, const char **argv,
                         const size_t *argvlen)
{
    if (!redis_client_ready(rc))
        return -1;
    command_req *req = new_req(rc, cb, privdata, 0);
    if (redisAsyncCommandArgv(rc->ac, on_reply, req, argc, argv, argvlen) !=
        REDIS_OK) {
        free(req);
        return -1;
    }
    return 0;
}

static void client_closed(uv_handle_t *h)
{
    redis_client *rc = h->data;
    redis_url_free(&rc->url);
    free(rc->name);
    free(rc);
}

void redis_client_close(redis_client *rc)
{
    rc->closing = 1;
    uv_timer_stop(&rc->timer);
    rc->timer.data = rc;
    if (rc->ac) {
        redisAsyncContext *ac = rc->ac;
        /* The disconnect callback would run with a half-freed client; detach
         * first and run the pending callbacks without us. */
        rc->ac = NULL;
        ac->data = NULL;
        redisAsyncFree(ac);
    }
    rc->ready = 0;
    uv_close((uv_handle_t *)&rc->timer, client_closed);
}
