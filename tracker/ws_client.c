/* ws_client: libwebsockets runs on the worker's libuv loop (a "foreign"
 * loop), one context per hub. A client is a small state machine:
 * connecting -> open -> (lost) -> waiting -> connecting ... Its uv timer
 * drives the backoff and is also how it is freed: the client's memory goes
 * in the timer's close callback, after libwebsockets has let go of its
 * connection. The context itself is torn down (after a short grace) when
 * the last client is gone, so an idle daemon holds no libwebsockets
 * handles and its loop can end at shutdown. */
#include "ws_client.h"

#include <libwebsockets.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Milliseconds the context outlives its last client: trackers that stop
 * and start again do not pay for a new context each time. */
#define WS_HUB_LINGER_MS 1000

struct ws_hub {
    uv_loop_t *loop;
    struct lws_context *ctx;
    /* On a foreign libuv loop a context is destroyed in two calls: the
     * first closes its handles, the second (once the loop has run the
     * close callbacks) frees it. This one has had its first. */
    struct lws_context *dying;
    char *ca_file;
    lws_retry_bo_t keepalive; /* ping and hang-up times of every client */
    size_t clients;
    uv_timer_t *linger; /* pending context teardown, or NULL */
};

typedef enum ws_state {
    WS_CONNECTING,
    WS_OPEN,
    WS_WAITING,
} ws_state;

typedef struct ws_reply {
    struct ws_reply *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes, then the message */
} ws_reply;

struct ws_client {
    ws_hub *hub;
    char *url;
    char *parts; /* url cut up by lws_parse_uri() */
    const char *address;
    char *path; /* with its leading '/' */
    int port;
    int tls;
    double delay0, delay;
    size_t max_message;
    ws_client_cbs cbs;
    void *data;
    struct lws *wsi;
    uv_timer_t timer;
    ws_state state;
    int closing;
    buf rx;
    int rx_too_large;
    buf latest; /* LWS_PRE bytes, then the message */
    int latest_pending;
    uint64_t latest_born;
    ws_reply *head, *tail;
    size_t nreplies;
    unsigned long connects, dropped, superseded;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len);

static const struct lws_protocols protocols[] = {
    {"posetrackd", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    log_write(level == LLL_ERR ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING,
              "websocket: %.*s", (int)n, line);
}

ws_hub *ws_hub_new(uv_loop_t *loop, const char *ca_file, double ping_interval)
{
    ws_hub *h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    /* libwebsockets counts whole seconds in 16 bits. */
    double ping = ceil(fmin(fmax(ping_interval, 1), 30000));
    h->keepalive.secs_since_valid_ping = (uint16_t)ping;
    h->keepalive.secs_since_valid_hangup = (uint16_t)(2 * ping);
    h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    return h;
}

void ws_hub_free(ws_hub *h)
{
    if (!h)
        return;
    if (h->ctx)
        lws_context_destroy(h->ctx);
    if (h->dying)
        lws_context_destroy(h->dying);
    free(h->ca_file);
    free(h);
}

static int hub_context(ws_hub *h)
{
    if (h->ctx)
        return 0;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[] = {h->loop};
    info.foreign_loops = loops;
    info.options =
        LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.client_ssl_ca_filepath = h->ca_file;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        log_error("websocket: cannot create the libwebsockets context");
        return -1;
    }
    return 0;
}

static void linger_closed(uv_handle_t *t)
{
    free(t);
}

static void linger_cancel(ws_hub *h)
{
    if (!h->linger)
        return;
    uv_timer_stop(h->linger);
    uv_close((uv_handle_t *)h->linger, linger_closed);
    h->linger = NULL;
}

static void linger_done(uv_timer_t *t)
{
    ws_hub *h = t->data;
    linger_cancel(h);
    if (h->clients == 0 && h->ctx) {
        if (h->dying)
            lws_context_destroy(h->dying);
        lws_context_destroy(h->ctx);
        h->dying = h->ctx;
        h->ctx = NULL;
    }
}

static void hub_release(ws_hub *h)
{
    if (--h->clients > 0 || h->linger)
        return;
    h->linger = xmalloc(sizeof(uv_timer_t));
    uv_timer_init(h->loop, h->linger);
    h->linger->data = h;
    uv_timer_start(h->linger, linger_done, WS_HUB_LINGER_MS, 0);
}

static void free_client(uv_handle_t *t)
{
    ws_client *c = t->data;
    ws_reply *r = c->head;
    while (r) {
        ws_reply *next = r->next;
        free(r);
        r = next;
    }
    buf_free(&c->rx);
    buf_free(&c->latest);
    free(c->url);
    free(c->parts);
    free(c->path);
    hub_release(c->hub);
    free(c);
}

/* The connection is gone for good: free once the timer has closed. */
static void finish_close(ws_client *c)
{
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, free_client);
}

static void connect_now(ws_client *c);

static void retry_due(uv_timer_t *t)
{
    connect_now(t->data);
}

static void lost(ws_client *c, const char *why)
{
    c->wsi = NULL;
    if (c->state == WS_WAITING)
        return;
    c->state = WS_WAITING;
    if (c->closing) {
        finish_close(c);
        return;
    }
    double wait = c->delay;
    c->delay = fmin(c->delay * 2, WS_CLIENT_MAX_DELAY);
    uv_timer_start(&c->timer, retry_due, (uint64_t)(wait * 1000), 0);
    if (c->cbs.on_down)
        c->cbs.on_down(c, why, wait, c->data);
}

static void connect_now(ws_client *c)
{
    c->state = WS_CONNECTING;
    if (hub_context(c->hub) < 0) {
        lost(c, "no websocket context");
        return;
    }
    struct lws_client_connect_info info;
    memset(&info, 0, sizeof(info));
    info.context = c->hub->ctx;
    info.address = c->address;
    info.port = c->port;
    info.path = c->path;
    info.host = c->address;
    info.origin = c->address;
    info.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
    info.local_protocol_name = protocols[0].name;
    info.retry_and_idle_policy = &c->hub->keepalive;
    info.userdata = c;
    info.pwsi = &c->wsi;
    if (!lws_client_connect_via_info(&info) && c->state == WS_CONNECTING)
        lost(c, "cannot start the connection");
}

ws_client *ws_client_open(ws_hub *h, const char *url, double reconnect_delay,
                          size_t max_message, const ws_client_cbs *cbs,
                          void *data)
{
    ws_client *c = xcalloc(1, sizeof(*c));
    c->hub = h;
    h->clients++;
    linger_cancel(h);
    c->url = xstrdup(url);
    c->parts = xstrdup(url);
    const char *prot, *path;
    if (lws_parse_uri(c->parts, &prot, &c->address, &c->port, &path)) {
        c->address = "";
        path = "";
    }
    c->tls = strcmp(prot, "wss") == 0;
    size_t plen = strlen(path);
    c->path = xmalloc(plen + 2);
    c->path[0] = '/';
    memcpy(c->path + 1, path, plen + 1);
    c->delay0 = c->delay = reconnect_delay;
    c->max_message = max_message;
    c->cbs = *cbs;
    c->data = data;
    buf_init(&c->rx);
    buf_init(&c->latest);
    uv_timer_init(h->loop, &c->timer);
    c->timer.data = c;
    connect_now(c);
    return c;
}

static int write_one(ws_client *c);

static void want_write(ws_client *c)
{
    if (c->state == WS_OPEN && c->wsi)
        lws_callback_on_writable(c->wsi);
}

void ws_client_send_latest(ws_client *c, const char *msg, size_t len,
                           uint64_t born_ns)
{
    c->latest_born = born_ns;
    if (c->latest_pending)
        c->superseded++;
    buf_reset(&c->latest);
    buf_reserve(&c->latest, LWS_PRE + len);
    memset(c->latest.data, 0, LWS_PRE);
    c->latest.len = LWS_PRE;
    buf_append(&c->latest, msg, len);
    c->latest_pending = 1;
    /* Nothing ahead of it and the socket not backed up: write now rather
     * than a loop turn later (libwebsockets buffers a partial write). */
    if (c->state == WS_OPEN && c->wsi && !c->head && !c->closing &&
        !lws_partial_buffered(c->wsi) && !lws_send_pipe_choked(c->wsi)) {
        if (write_one(c) < 0)
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    want_write(c);
}

int ws_client_send_reply(ws_client *c, const char *msg, size_t len)
{
    if (c->nreplies == WS_CLIENT_MAX_REPLIES) {
        c->dropped++;
        return -1;
    }
    ws_reply *r = xmalloc(sizeof(*r) + LWS_PRE + len);
    r->next = NULL;
    r->len = len;
    memcpy(r->data + LWS_PRE, msg, len);
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->nreplies++;
    want_write(c);
    return 0;
}

void ws_client_close(ws_client *c)
{
    c->closing = 1;
    memset(&c->cbs, 0, sizeof(c->cbs));
    if (c->state == WS_WAITING) {
        finish_close(c);
        return;
    }
    /* Connecting or open: libwebsockets still owns the connection and
     * tells us when it is gone. */
    if (c->wsi) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
                        c->state == WS_OPEN ? WS_CLIENT_CLOSE_SECS
                                            : LWS_TO_KILL_ASYNC);
        want_write(c);
    }
}

/* Sends one message: replies first, then the latest state. Returns 0, or
 * -1 to close the connection. */
static int write_one(ws_client *c)
{
    unsigned char *p;
    size_t len;
    ws_reply *r = c->head;
    if (r) {
        p = r->data + LWS_PRE;
        len = r->len;
    } else if (c->latest_pending) {
        p = (unsigned char *)c->latest.data + LWS_PRE;
        len = c->latest.len - LWS_PRE;
    } else if (c->closing) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1;
    } else {
        return 0;
    }
    if (lws_write(c->wsi, p, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    if (r) {
        c->head = r->next;
        if (!c->head)
            c->tail = NULL;
        c->nreplies--;
        free(r);
    } else {
        c->latest_pending = 0;
        if (c->cbs.on_sent)
            c->cbs.on_sent(c, c->latest_born, c->data);
    }
    if (c->head || c->latest_pending || c->closing)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void deliver(ws_client *c, const char *msg, size_t len, int too_large)
{
    if (c->closing)
        return;
    if (too_large) {
        if (c->cbs.on_oversize)
            c->cbs.on_oversize(c, c->data);
    } else if (c->cbs.on_message) {
        c->cbs.on_message(c, msg, len, c->data);
    }
}

static void receive(ws_client *c, struct lws *wsi, const char *in, size_t len)
{
    int whole =
        lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    /* The usual case, a message in one piece: hand it over where it lies
     * instead of copying it into rx first. */
    if (lws_is_first_fragment(wsi) && whole) {
        deliver(c, in, len, len > c->max_message);
        return;
    }
    if (lws_is_first_fragment(wsi)) {
        buf_reset(&c->rx);
        c->rx_too_large = 0;
    }
    if (!c->rx_too_large && c->rx.len + len > c->max_message) {
        c->rx_too_large = 1;
        buf_reset(&c->rx);
    }
    if (!c->rx_too_large)
        buf_append(&c->rx, in, len);
    if (!whole)
        return;
    deliver(c, c->rx.data ? c->rx.data : "", c->rx.len, c->rx_too_large);
    /* A burst of one huge message must not stay allocated per tracker. */
    if (c->rx.cap > 4 * 65536) {
        buf_free(&c->rx);
        buf_init(&c->rx);
    }
}

/* Whether wsi is c's current connection. libwebsockets may clear c->wsi
 * (through pwsi) before reporting a failed connect. */
static int owns(const ws_client *c, const struct lws *wsi)
{
    return c && c->state != WS_WAITING && (c->wsi == wsi || !c->wsi);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    ws_client *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->wsi = wsi;
        c->state = WS_OPEN;
        c->delay = c->delay0;
        c->connects++;
        if (c->cbs.on_open)
            c->cbs.on_open(c, c->data);
        if (c->head || c->latest_pending || c->closing)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return write_one(c);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[160];
        snprintf(why, sizeof(why), "cannot connect: %s",
                 in ? (const char *)in : "error");
        if (owns(c, wsi))
            lost(c, why);
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (owns(c, wsi))
            lost(c, "connection closed");
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        /* The one notice every connection gets when it is freed, whatever
         * else was or was not reported: never keep a pointer past it. */
        if (owns(c, wsi))
            lost(c, "connection gone");
        break;
    default:
        break;
    }
    return 0;
}

int ws_client_is_open(const ws_client *c)
{
    return c->state == WS_OPEN;
}

const char *ws_client_url(const ws_client *c)
{
    return c->url;
}

unsigned long ws_client_connects(const ws_client *c)
{
    return c->connects;
}

unsigned long ws_client_dropped(const ws_client *c)
{
    return c->dropped;
}

unsigned long ws_client_superseded(const ws_client *c)
{
    return c->superseded;
}
