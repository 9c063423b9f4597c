/* mingle: one short-lived Redis connection that declares a reply queue
 * the way kombu's Mailbox does (a binding in _kombu.binding.reply.celery.
 * pidbox), publishes the hello request on the celery.pidbox fanout, then
 * pops replies until the timeout, and removes its queue. The worker never
 * waits for it: messages are consumed meanwhile, and ids revoked by peers
 * are applied as they come in. */
#include "mingle.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "buf.h"
#include "kombu_envelope.h"
#include "log.h"
#include "redis_client.h"
#include "worker_internal.h"

struct mingle {
    worker *w;
    redis_client *rc;
    int db;
    char oid[64];
    char queue[128];
    char member[256];
    double deadline;
    int done;
    int refs; /* the timer handle and the closing connection */
    unsigned merged;
    uv_timer_t give_up;
};

static void unref(mingle *m)
{
    if (--m->refs == 0)
        free(m);
}

static void timer_closed(uv_handle_t *h)
{
    unref(h->data);
}

static double now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static void pop_next(mingle *m);

static void on_cleanup(redis_client *rc, redisReply *r, void *privdata)
{
    (void)r;
    redis_client_close(rc);
    unref(privdata);
}

/* Removes the reply queue and its binding, then closes once Redis has
 * confirmed it (the DEL reply), or at once if it cannot be sent. */
static void finish(mingle *m)
{
    if (m->done)
        return;
    m->done = 1;
    m->w->mingle = NULL;
    uv_close((uv_handle_t *)&m->give_up, timer_closed);
    if (m->merged)
        log_info("mingle: sync complete (%u revoked id(s) from peers)",
                 m->merged);
    const char *srem[] = {"SREM", "_kombu.binding.reply.celery.pidbox",
                          m->member};
    size_t sl[] = {4, strlen(srem[1]), strlen(m->member)};
    redis_client_command(m->rc, NULL, NULL, 3, srem, sl);
    const char *del[] = {"DEL", m->queue};
    size_t dl[] = {3, strlen(m->queue)};
    if (redis_client_command(m->rc, on_cleanup, m, 2, del, dl) != 0)
        on_cleanup(m->rc, NULL, m);
}

/* A reply envelope: body {node: {"revoked": {id: [time, id]}, ...}}. */
static void merge_reply(mingle *m, const char *raw, size_t len)
{
    buf err;
    buf_init(&err);
    json_t *doc = kombu_envelope_decode(raw, len, &err);
    if (!doc)
        log_warning("mingle: dropped a reply: %s", err.data);
    buf_free(&err);
    const char *node, *id;
    json_t *reply, *v;
    json_object_foreach(doc, node, reply)
    {
        if (strcmp(node, m->w->cfg->hostname) == 0)
            continue;
        json_object_foreach(json_object_get(reply, "revoked"), id, v)
        {
            if (!json_object_get(m->w->revoked, id) &&
                worker_revoke(m->w, id, 0, NULL) >= 0)
                m->merged++;
        }
    }
    json_decref(doc);
}

/* Longest BRPOP of one poll. */
#define MINGLE_POLL_MS 100

static void on_pop(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    mingle *m = privdata;
    if (!r) {
        finish(m);
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        merge_reply(m, r->element[1]->str, r->element[1]->len);
    if (!m->done)
        pop_next(m);
}

static void pop_next(mingle *m)
{
    double left = m->deadline - now_ms();
    /* Under a millisecond left would print as a BRPOP timeout of "0.000",
     * which Redis reads as: block forever. */
    if (left < 1) {
        finish(m);
        return;
    }
    /* Short polls, so that a shutdown (which queues the clean-up behind
     * the BRPOP in flight) waits at most MINGLE_POLL_MS. */
    if (left > MINGLE_POLL_MS)
        left = MINGLE_POLL_MS;
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%.3f", floor(left) / 1e3);
    const char *argv[] = {"BRPOP", m->queue, timeout};
    size_t lens[] = {5, strlen(m->queue), strlen(timeout)};
    if (redis_client_command(m->rc, on_pop, m, 3, argv, lens) != 0)
        finish(m);
}

static void send_hello(mingle *m)
{
    json_t *body = json_pack(
        "{s:s, s:{s:s, s:{}}, s:n, s:n, s:n, s:s, s:{s:s, s:s}}", "method",
        "hello", "arguments", "from_node", m->w->cfg->hostname, "revoked",
        "destination", "pattern", "matcher", "ticket", m->oid, "reply_to",
        "exchange", "reply.celery.pidbox", "routing_key", m->oid);
    json_t *headers =
        json_pack("{s:I, s:f}", "clock", (json_int_t)++m->w->clock, "expires",
                  now_ms() / 1e3 + MINGLE_TIMEOUT_MS / 1e3);
    kombu_envelope e = {body, headers, "celery.pidbox",
                        "",   m->oid,  KOMBU_DELIVERY_TRANSIENT};
    buf env, chan;
    buf_init(&env);
    buf_init(&chan);
    kombu_envelope_encode(&env, &e);
    buf_printf(&chan, "/%d.celery.pidbox", m->db);
    const char *argv[] = {"PUBLISH", chan.data, env.data ? env.data : ""};
    size_t lens[] = {7, chan.len, env.len};
    redis_client_command(m->rc, NULL, NULL, 3, argv, lens);
    buf_free(&env);
    buf_free(&chan);
    json_decref(body);
    json_decref(headers);
}

static void on_state(redis_client *rc, int ready, void *data)
{
    mingle *m = data;
    if (!ready || m->done)
        return;
    const char *sadd[] = {"SADD", "_kombu.binding.reply.celery.pidbox",
                          m->member};
    size_t sl[] = {4, strlen(sadd[1]), strlen(m->member)};
    redis_client_command(rc, NULL, NULL, 3, sadd, sl);
    m->deadline = now_ms() + MINGLE_TIMEOUT_MS;
    send_hello(m);
    pop_next(m);
}

void mingle_cancel(mingle *m)
{
    finish(m);
}

static void on_give_up(uv_timer_t *t)
{
    mingle *m = t->data;
    log_warning("mingle: no sync with other workers within %d ms",
                MINGLE_GIVE_UP_MS);
    finish(m);
}

void mingle_start(uv_loop_t *loop, const redis_url *url, worker *w)
{
    mingle *m = xcalloc(1, sizeof(*m));
    m->w = w;
    m->db = url->db;
    snprintf(m->oid, sizeof(m->oid), "posetrackd-mingle-%ld-%p",
             (long)worker_now(), (void *)m);
    snprintf(m->queue, sizeof(m->queue), "%s.reply.celery.pidbox", m->oid);
    snprintf(m->member, sizeof(m->member), "%s\x06\x16\x06\x16%s", m->oid,
             m->queue);
    m->refs = 2;
    w->mingle = m;
    m->rc = redis_client_new(loop, url, "mingle", on_state, m);
    uv_timer_init(loop, &m->give_up);
    m->give_up.data = m;
    uv_timer_start(&m->give_up, on_give_up, MINGLE_GIVE_UP_MS, 0);
    redis_client_start(m->rc);
}
