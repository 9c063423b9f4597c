/* backend_redis: every state is kept in memory until Redis has confirmed
 * it, so a Redis restart or a dropped connection delays results but never
 * loses one. States are written in the order they were stored.
 *
 * Celery 5.2 reads the current state before each write to avoid
 * overwriting SUCCESS; posetrackd writes each task's states from one place
 * in order, so it skips that round trip. */
#include "backend_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "redis_client.h"

/* How long close waits for unconfirmed writes before giving up on them. */
#define CLOSE_WAIT_MS 3000

typedef struct pending {
    struct pending *next;
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
} pending;

typedef struct backend_redis {
    backend base;
    redis_client *rc;
    char expires[32];            /* "" = no expiry */
    pending *head, *tail;        /* not yet sent */
    pending *retry, *retry_tail; /* sent, connection lost before the reply */
    size_t inflight;
    int closing;
    uv_timer_t close_timer;
    backend_closed_cb closed_cb;
    void *closed_data;
} backend_redis;

static void send_pending(backend_redis *b);
static void maybe_finish_close(backend_redis *b);

static void pending_free(pending *p)
{
    free(p->key);
    free(p->value);
    free(p);
}

static void push_front(backend_redis *b, pending *p)
{
    p->next = b->head;
    b->head = p;
    if (!b->tail)
        b->tail = p;
}

/* Lost writes come back in the order they were sent; they go before
 * everything not yet sent, keeping each task's states in order. */
static void splice_retries(backend_redis *b)
{
    if (!b->retry)
        return;
    b->retry_tail->next = b->head;
    if (!b->head)
        b->tail = b->retry_tail;
    b->head = b->retry;
    b->retry = b->retry_tail = NULL;
}

static void on_publish_reply(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    backend_redis *b = redis_client_data(rc);
    pending *p = privdata;
    b->inflight--;
    if (!r && !b->closing) {
        /* Connection lost before the write was confirmed: send it again
         * once reconnected (SETEX and PUBLISH are idempotent enough). */
        p->next = NULL;
        if (b->retry_tail)
            b->retry_tail->next = p;
        else
            b->retry = p;
        b->retry_tail = p;
        return;
    }
    if (r && r->type == REDIS_REPLY_ERROR)
        log_error("backend: cannot publish %.*s: %.*s", (int)p->key_len, p->key,
                  (int)r->len, r->str);
    pending_free(p);
    maybe_finish_close(b);
}

static void on_set_reply(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    pending *p = privdata;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_error("backend: cannot store %.*s: %.*s", (int)p->key_len, p->key,
                  (int)r->len, r->str);
}

static int send_one(backend_redis *b, pending *p)
{
    int rc;
    if (b->expires[0]) {
        const char *argv[] = {"SETEX", p->key, b->expires, p->value};
        size_t lens[] = {5, p->key_len, strlen(b->expires), p->value_len};
        rc = redis_client_command(b->rc, on_set_reply, p, 4, argv, lens);
    } else {
        const char *argv[] = {"SET", p->key, p->value};
        size_t lens[] = {3, p->key_len, p->value_len};
        rc = redis_client_command(b->rc, on_set_reply, p, 3, argv, lens);
    }
    if (rc)
        return -1;
    const char *argv[] = {"PUBLISH", p->key, p->value};
    size_t lens[] = {7, p->key_len, p->value_len};
    if (redis_client_command(b->rc, on_publish_reply, p, 3, argv, lens))
        return -1;
    b->inflight++;
    return 0;
}

static void send_pending(backend_redis *b)
{
    while (b->head && redis_client_ready(b->rc)) {
        pending *p = b->head;
        b->head = p->next;
        if (!b->head)
            b->tail = NULL;
        p->next = NULL;
        if (send_one(b, p)) {
            push_front(b, p);
            return;
        }
    }
}

static void on_state(redis_client *rc, int ready, void *data)
{
    (void)rc;
    backend_redis *b = data;
    if (ready) {
        splice_retries(b);
        send_pending(b);
    }
}

static void backend_redis_start(backend *base)
{
    backend_redis *b = (backend_redis *)base;
    redis_client_start(b->rc);
}

static void backend_redis_store(backend *base, const backend_state *st)
{
    backend_redis *b = (backend_redis *)base;
    pending *p = xcalloc(1, sizeof(*p));
    buf key;
    buf_init(&key);
    buf_printf(&key, "celery-task-meta-%s", st->task_id);
    p->key = buf_detach(&key, &p->key_len);
    p->value = xstrndup(st->meta, st->meta_len);
    p->value_len = st->meta_len;
    if (b->tail)
        b->tail->next = p;
    else
        b->head = p;
    b->tail = p;
    /* Order matters (STARTED before SUCCESS), so nothing overtakes what
     * is already waiting. */
    if (b->head == p)
        send_pending(b);
}

static void free_backend(uv_handle_t *h)
{
    backend_redis *b = h->data;
    splice_retries(b);
    while (b->head) {
        pending *p = b->head;
        b->head = p->next;
        pending_free(p);
    }
    backend_closed_cb cb = b->closed_cb;
    void *data = b->closed_data;
    free(b);
    if (cb)
        cb(data);
}

static void finish_close(backend_redis *b)
{
    if (b->head || b->inflight)
        log_error("backend: closing with %zu result(s) not confirmed by Redis",
                  b->inflight + (b->head ? 1 : 0));
    redis_client *rc = b->rc;
    b->rc = NULL;
    if (rc)
        redis_client_close(rc);
    uv_close((uv_handle_t *)&b->close_timer, free_backend);
}

static void maybe_finish_close(backend_redis *b)
{
    if (b->closing == 1 && !b->head && b->inflight == 0) {
        b->closing = 2;
        uv_timer_stop(&b->close_timer);
        finish_close(b);
    }
}

static void on_close_timeout(uv_timer_t *t)
{
    backend_redis *b = t->data;
    if (b->closing == 1) {
        b->closing = 2;
        finish_close(b);
    }
}

static void backend_redis_close(backend *base, backend_closed_cb cb, void *data)
{
    backend_redis *b = (backend_redis *)base;
    b->closed_cb = cb;
    b->closed_data = data;
    b->closing = 1;
    uv_timer_start(&b->close_timer, on_close_timeout, CLOSE_WAIT_MS, 0);
    maybe_finish_close(b);
}

static const backend_ops redis_ops = {
    .start = backend_redis_start,
    .store = backend_redis_store,
    .close = backend_redis_close,
};

backend *backend_redis_new(uv_loop_t *loop, const redis_url *url,
                           double expires)
{
    backend_redis *b = xcalloc(1, sizeof(*b));
    b->base.ops = &redis_ops;
    if (expires >= 1)
        snprintf(b->expires, sizeof(b->expires), "%.0f", expires);
    b->rc = redis_client_new(loop, url, "backend", on_state, b);
    uv_timer_init(loop, &b->close_timer);
    b->close_timer.data = b;
    return &b->base;
}
