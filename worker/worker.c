/* worker: message intake, dispatch under the concurrency limit, result
 * storage and shutdown, all on one libuv loop.
 *
 * Flow control is credit based: the worker may hold prefetch_limit
 * unacknowledged messages (Celery's prefetch: concurrency x multiplier);
 * it tells the broker how many more it can take after every change.
 * Messages waiting for an eta do not count, as Celery raises its prefetch
 * for them, but their number is bounded by MAX_ETA_HELD.
 *
 * Nothing is lost on shutdown: messages not started go back to their
 * queue; running acks-late messages that cannot finish go back too;
 * running early-acked ones get Celery's WorkerLostError. */
#include "worker.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>

#include "backend_redis.h"
#include "broker_redis.h"
#include "control.h"
#include "events.h"
#include "isotime.h"
#include "log.h"
#include "mingle.h"
#include "redis_url.h"
#include "sd_notify.h"
#include "statedb.h"
#include "task_registry.h"
#include "worker_internal.h"
#include "version.h"

/* Upper bound on eta/countdown messages held in memory at once; beyond it
 * the worker stops taking messages until some are due. */
#define MAX_ETA_HELD 65536
/* Revoked ids kept, as Celery's worker_state.revoked: a LimitedSet of
 * 50,000 entries expiring after 3 hours (REVOKES_MAX, REVOKE_EXPIRES). */
#define REVOKED_MAX 50000
#define REVOKED_EXPIRES 10800.0

/* After the shutdown grace period, tasks asked to stop get this long to
 * send their last words before they are stopped outright. */
#define CANCEL_GRACE_MS 2000

double worker_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void link_request(worker *w, struct task_run *r)
{
    r->prev = NULL;
    r->next = w->requests;
    if (w->requests)
        w->requests->prev = r;
    w->requests = r;
}

static void unlink_request(worker *w, struct task_run *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        w->requests = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void push_ready(worker *w, struct task_run *r)
{
    r->state = REQUEST_READY;
    r->ready_next = NULL;
    if (w->ready_tail)
        w->ready_tail->ready_next = r;
    else
        w->ready_head = r;
    w->ready_tail = r;
}

static struct task_run *pop_ready(worker *w)
{
    struct task_run *r = w->ready_head;
    if (r) {
        w->ready_head = r->ready_next;
        if (!w->ready_head)
            w->ready_tail = NULL;
        r->ready_next = NULL;
    }
    return r;
}

static void remove_ready(worker *w, struct task_run *r)
{
    struct task_run **p = &w->ready_head, *prev = NULL;
    while (*p && *p != r) {
        prev = *p;
        p = &(*p)->ready_next;
    }
    if (!*p)
        return;
    *p = r->ready_next;
    if (w->ready_tail == r)
        w->ready_tail = prev;
    r->ready_next = NULL;
}

static void dispatch(worker *w);
static void purge_revoked(worker *w);

static int is_revoked(worker *w, const char *id)
{
    purge_revoked(w);
    return json_object_get(w->revoked, id) != NULL;
}

static void update_credit(worker *w)
{
    size_t credit = 0;
    if (w->phase == WORKER_RUNNING && w->neta < MAX_ETA_HELD &&
        w->nunacked < w->prefetch_limit)
        credit = w->prefetch_limit - w->nunacked;
    w->broker->ops->set_credit(w->broker, credit);
}

void worker_set_concurrency(worker *w, unsigned n)
{
    w->concurrency = n ? n : 1;
    w->prefetch_limit = (size_t)w->concurrency * w->cfg->prefetch_multiplier;
    if (w->phase == WORKER_RUNNING) {
        dispatch(w);
        update_credit(w);
    }
}

void worker_event(worker *w, const char *type, json_t *fields)
{
    if (w->events)
        events_send(w->events, type, fields);
    else
        json_decref(fields);
}

void worker_store(worker *w, const result_meta *m, const char *reply_to,
                  const char *correlation_id)
{
    if (!w->backend)
        return;
    buf meta;
    buf_init(&meta);
    result_meta_encode(&meta, m);
    backend_state st = {m->task_id, m->status, meta.data,
                        meta.len,   reply_to,  correlation_id};
    w->backend->ops->store(w->backend, &st);
    buf_free(&meta);
}

void worker_ack(worker *w, struct task_run *r)
{
    if (r->acked)
        return;
    r->acked = 1;
    if (r->state != REQUEST_ETA)
        w->nunacked--;
    if (r->tag)
        w->broker->ops->ack(w->broker, r->tag);
}

/* Gives an unacknowledged message back to the broker instead of acking. */
static void hand_back(worker *w, struct task_run *r)
{
    if (r->acked)
        return;
    r->acked = 1;
    if (r->state != REQUEST_ETA)
        w->nunacked--;
    if (r->tag)
        w->broker->ops->requeue(w->broker, r->tag, r->queue, r->raw,
                                r->raw_len);
    /* A message that came without a delivery tag was never recorded as
     * unacked; it goes back by publishing it to its queue again. */
    else if (r->queue[0] && w->broker->ops->publish(w->broker, "", r->queue,
                                                    r->raw, r->raw_len) != 0)
        log_error("Task %s[%s] could not be returned to queue %s",
                  r->msg.task ? r->msg.task : "?", r->msg.id ? r->msg.id : "?",
                  r->queue);
}

static void maybe_close(worker *w);

static void dispatch(worker *w)
{
    /* Tasks that finish inside start() re-enter here through
     * worker_request_done(); the outer loop does the work. */
    if (w->dispatching)
        return;
    w->dispatching = 1;
    while (w->phase == WORKER_RUNNING && w->nrunning < w->concurrency &&
           w->ready_head) {
        struct task_run *r = pop_ready(w);
        if (request_expired(r, worker_now())) {
            request_revoke(r, "expired");
            continue;
        }
        if (is_revoked(w, r->msg.id)) {
            request_revoke(r, "revoked");
            continue;
        }
        if (!w->cfg->acks_late)
            worker_ack(w, r);
        r->state = REQUEST_RUNNING;
        w->nrunning++;
        request_start(r);
    }
    w->dispatching = 0;
}

static void free_handed_back(worker *w, struct task_run *r)
{
    unlink_request(w, r);
    if (r->state == REQUEST_ETA)
        w->neta--;
    request_free(r);
}

void worker_request_done(worker *w, struct task_run *r)
{
    unlink_request(w, r);
    if (r->state == REQUEST_RUNNING) {
        w->nrunning--;
        w->processed++;
        json_t *n = json_object_get(w->totals, r->msg.task);
        json_object_set_new(w->totals, r->msg.task,
                            json_integer(n ? json_integer_value(n) + 1 : 1));
    } else if (r->state == REQUEST_READY) {
        remove_ready(w, r);
    }
    worker_ack(w, r);
    if (r->state == REQUEST_ETA)
        w->neta--;
    request_free(r);
    if (w->phase == WORKER_RUNNING) {
        dispatch(w);
        update_credit(w);
    } else {
        maybe_close(w);
    }
}

static task_rate *find_rate(worker *w, const char *name)
{
    for (task_rate *t = w->rates; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

const char *worker_rate_limit(worker *w, const char *name)
{
    task_rate *t = find_rate(w, name);
    return t && t->interval > 0 ? t->text : NULL;
}

void worker_set_rate_limit(worker *w, const char *name, double interval,
                           const char *text)
{
    task_rate *t = find_rate(w, name);
    if (!t) {
        t = xcalloc(1, sizeof(*t));
        t->name = xstrdup(name);
        t->next = w->rates;
        w->rates = t;
    }
    t->interval = interval;
    t->next_free = 0;
    free(t->text);
    t->text = xstrdup(text ? text : "");
}

/* When a task of this type may start: now, or its rate limit's next
 * slot, which it then takes. */
static double rate_slot(worker *w, struct task_run *r, double now)
{
    task_rate *t = find_rate(w, r->msg.task);
    r->rate_checked = 1;
    if (!t || t->interval <= 0)
        return now;
    double at = t->next_free > now ? t->next_free : now;
    t->next_free = at + t->interval;
    return at;
}

static void eta_due(uv_timer_t *t);

/* Holds a request (eta, or a rate-limit slot) until `at`. */
static void hold(worker *w, struct task_run *r, double at, double now)
{
    if (r->state != REQUEST_ETA) {
        r->state = REQUEST_ETA;
        w->neta++;
        w->nunacked--;
    }
    uint64_t ms = (uint64_t)((at - now) * 1000) + 1;
    uv_timer_start(&r->timer, eta_due, ms, 0);
}

static void eta_due(uv_timer_t *t)
{
    struct task_run *r = t->data;
    worker *w = r->w;
    if (!r->rate_checked) {
        double now = worker_now(), at = rate_slot(w, r, now);
        if (at > now) {
            hold(w, r, at, now);
            return;
        }
    }
    w->neta--;
    w->nunacked++;
    push_ready(w, r);
    dispatch(w);
    update_credit(w);
}

/* Finds the task id in the tail of an oversized kombu envelope, where the
 * headers follow the body. */
static void id_from_tail(const char *tail, size_t len, celery_msg *m)
{
    const char *h = memmem(tail, len, "\"headers\": {", 12);
    if (!h)
        return;
    h += 11;
    json_t *hd =
        json_loadb(h, len - (size_t)(h - tail),
                   JSON_DISABLE_EOF_CHECK | JSON_DECODE_INT_AS_REAL, NULL);
    const char *id = json_string_value(json_object_get(hd, "id"));
    const char *task = json_string_value(json_object_get(hd, "task"));
    if (id && strlen(id) <= CELERY_MSG_MAX_NAME)
        m->id = xstrdup(id);
    if (task && strlen(task) <= CELERY_MSG_MAX_NAME)
        m->task = xstrdup(task);
    json_decref(hd);
}

/* A message that cannot run: logged, acked, and answered with a FAILURE
 * when its id is known. */
static void reject(worker *w, struct task_run *r, const char *exc_type,
                   const char *exc_module, const char *why)
{
    log_error("Received invalid task message%s%s: %s", r->msg.id ? " " : "",
              r->msg.id ? r->msg.id : "", why);
    if (r->msg.id) {
        request_fail(r, exc_type, exc_module, why, 0);
        worker_event(w, "task-rejected",
                     json_pack("{s:s, s:b}", "uuid", r->msg.id, "requeue", 0));
    }
    r->finished = 1;
    worker_request_done(w, r);
}

static json_t *iso_or_null(int has, double t)
{
    return has ? isotime_utc_json(t) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void send_received(worker *w, struct task_run *r)
{
    worker_event(w, "task-received",
                 json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o}",
                           "uuid", r->msg.id, "name", r->msg.task, "args",
                           str_or_null(r->msg.argsrepr), "kwargs",
                           str_or_null(r->msg.kwargsrepr), "root_id",
                           str_or_null(r->msg.root_id), "parent_id",
                           str_or_null(r->msg.parent_id), "retries",
                           (int)r->msg.retries, "eta",
                           iso_or_null(r->msg.has_eta, r->msg.eta), "expires",
                           iso_or_null(r->msg.has_expires, r->msg.expires)));
}

static void accept_request(worker *w, struct task_run *r)
{
    double now = worker_now();
    log_info("Task %s[%s] received", r->msg.task, r->msg.id);
    send_received(w, r);
    if (request_expired(r, now)) {
        request_revoke(r, "expired");
        return;
    }
    if (is_revoked(w, r->msg.id)) {
        request_revoke(r, "revoked");
        return;
    }
    if (r->msg.has_eta && r->msg.eta > now) {
        hold(w, r, r->msg.eta, now);
        return;
    }
    double at = rate_slot(w, r, now);
    if (at > now) {
        hold(w, r, at, now);
        return;
    }
    push_ready(w, r);
    dispatch(w);
}

static void on_message(broker *b, const broker_delivery *d, void *data)
{
    (void)b;
    worker *w = data;
    if (w->phase != WORKER_RUNNING && d->status == BROKER_DELIVERY_OK) {
        /* A fetch that was in flight when the shutdown began. */
        w->broker->ops->requeue(w->broker, d->tag, d->queue, d->raw, d->len);
        return;
    }
    struct task_run *r =
        request_new(w, d->status == BROKER_DELIVERY_OK ? d->tag : NULL,
                    d->queue, d->raw, d->len);
    link_request(w, r);
    r->state = REQUEST_READY;
    r->acked = 0;
    w->nunacked++;
    buf err;
    buf_init(&err);
    if (d->status == BROKER_DELIVERY_OVERSIZED) {
        id_from_tail(d->raw, d->len, &r->msg);
        buf_printf(&err, "message of %zu bytes exceeds the %zu-byte limit",
                   d->full_len, w->cfg->max_message_size);
        reject(w, r, "DecodeError", "kombu.exceptions", err.data);
    } else {
        celery_msg_status st = celery_msg_decode(d->raw, d->len, &r->msg, &err);
        const char *et, *em;
        celery_msg_status_exc(st, &et, &em);
        r->def = r->msg.task ? task_registry_find(r->msg.task) : NULL;
        if (st != CELERY_MSG_OK) {
            reject(w, r, et, em, err.data);
        } else if (!r->def) {
            log_error("Received unregistered task of type '%s'. The message "
                      "has been ignored and discarded.",
                      r->msg.task);
            request_fail(r, "NotRegistered", "celery.exceptions", r->msg.task,
                         0);
            r->finished = 1;
            worker_request_done(w, r);
        } else {
            accept_request(w, r);
        }
    }
    buf_free(&err);
    update_credit(w);
}

static int is_kill(const char *sig)
{
    return sig && (strcmp(sig, "KILL") == 0 || strcmp(sig, "SIGKILL") == 0 ||
                   strcmp(sig, "9") == 0);
}

/* Drops the oldest revoked ids: past the size bound, or expired. Entries
 * are kept in insertion order, which is time order. */
static void purge_revoked(worker *w)
{
    double cutoff = worker_now() - REVOKED_EXPIRES;
    void *it;
    while ((it = json_object_iter(w->revoked)) != NULL &&
           (json_object_size(w->revoked) > REVOKED_MAX ||
            json_number_value(json_object_iter_value(it)) < cutoff))
        json_object_del(w->revoked, json_object_iter_key(it));
}

static void write_state(worker *w)
{
    buf err;
    buf_init(&err);
    w->state_dirty = 0;
    if (statedb_save(w->cfg->statedb, w->revoked, &err))
        log_error("%s", err.data);
    buf_free(&err);
}

static void on_state_timer(uv_timer_t *t)
{
    worker *w = t->data;
    if (w->state_dirty)
        write_state(w);
}

/* The statedb is rewritten (and fsynced) once per loop iteration however
 * many ids changed in it: a hello from a peer can bring thousands. */
static void save_state(worker *w)
{
    if (!w->cfg->statedb)
        return;
    w->state_dirty = 1;
    uv_timer_start(&w->state_timer, on_state_timer, 0, 0);
}

static int valid_task_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > CELERY_MSG_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x20)
            return 0;
    return 1;
}

int worker_revoke(worker *w, const char *id, int terminate, const char *signal)
{
    if (!valid_task_id(id)) {
        log_warning("control: ignored an invalid task id in a revoke");
        return -1;
    }
    if (!json_object_get(w->revoked, id)) {
        json_object_set_new(w->revoked, id, json_real(worker_now()));
        purge_revoked(w);
        save_state(w);
    }
    int terminated = 0;
    struct task_run *r = w->requests, *next;
    for (; r; r = next) {
        next = r->next;
        if (!r->msg.id || strcmp(r->msg.id, id) != 0 || r->finished)
            continue;
        if (r->state != REQUEST_RUNNING) {
            /* Not started: answered now rather than when its turn comes. */
            if (r->state == REQUEST_READY)
                remove_ready(w, r);
            if (r->state == REQUEST_ETA) {
                r->state = REQUEST_READY;
                w->neta--;
                w->nunacked++;
            }
            request_revoke(r, "revoked");
        } else if (terminate) {
            request_terminate(r, is_kill(signal));
            terminated = 1;
        }
    }
    return terminated;
}

static void on_touch(uv_timer_t *t)
{
    worker *w = t->data;
    size_t n = 0, cap = 0;
    const char **tags = NULL;
    for (struct task_run *r = w->requests; r; r = r->next) {
        if (r->acked || !r->tag)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            tags = xrealloc(tags, cap * sizeof(char *));
        }
        tags[n++] = r->tag;
    }
    w->broker->ops->touch(w->broker, tags, n);
    free(tags);
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify_send("WATCHDOG=1");
}

static void handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_handles(worker *w)
{
    uv_close((uv_handle_t *)&w->touch_timer, handle_closed);
    uv_close((uv_handle_t *)&w->shutdown_timer, handle_closed);
    uv_close((uv_handle_t *)&w->watchdog_timer, handle_closed);
    uv_close((uv_handle_t *)&w->state_timer, handle_closed);
    uv_close((uv_handle_t *)&w->sig_term, handle_closed);
    uv_close((uv_handle_t *)&w->sig_int, handle_closed);
    uv_close((uv_handle_t *)&w->sig_quit, handle_closed);
}

static void on_backend_closed(void *data)
{
    worker *w = data;
    w->backend = NULL;
    close_handles(w);
}

static void on_broker_closed(broker *b, void *data)
{
    (void)b;
    worker *w = data;
    w->broker = NULL;
    if (w->backend)
        w->backend->ops->close(w->backend, on_backend_closed, w);
    else
        close_handles(w);
}

static void maybe_close(worker *w)
{
    if (w->phase == WORKER_RUNNING || w->phase == WORKER_CLOSING ||
        w->nrunning > 0)
        return;
    w->phase = WORKER_CLOSING;
    uv_timer_stop(&w->shutdown_timer);
    uv_timer_stop(&w->touch_timer);
    log_info("worker: all tasks ended; closing the broker and backend");
    if (w->state_dirty)
        write_state(w);
    if (w->events) {
        events_close(w->events);
        w->events = NULL;
    }
    if (w->control) {
        control_close(w->control);
        w->control = NULL;
    }
    if (w->mingle)
        mingle_cancel(w->mingle);
    w->broker->ops->close(w->broker, on_broker_closed, w);
}

/* Every message not started goes back to its queue, first in line. */
static void hand_back_unstarted(worker *w)
{
    struct task_run *r = w->requests, *next;
    size_t n = 0;
    for (; r; r = next) {
        next = r->next;
        if (r->state == REQUEST_RUNNING)
            continue;
        if (r->state == REQUEST_READY)
            remove_ready(w, r);
        hand_back(w, r);
        free_handed_back(w, r);
        n++;
    }
    if (n)
        log_info("worker: returned %zu unstarted message(s) to the broker", n);
}

/* Stops every running task now. Unacknowledged messages go back to the
 * broker; acknowledged ones would be lost, so they are reported as Celery
 * reports a worker that died under its task. */
static void abort_running(worker *w)
{
    struct task_run *r = w->requests, *next;
    for (; r; r = next) {
        next = r->next;
        if (r->state != REQUEST_RUNNING || r->finished)
            continue;
        request_abort(r);
        if (!r->acked) {
            log_warning("Task %s[%s] stopped by shutdown; returned to the "
                        "queue",
                        r->msg.task, r->msg.id);
            hand_back(w, r);
        } else {
            log_error("Task %s[%s] stopped by shutdown", r->msg.task,
                      r->msg.id);
            request_fail(r, "WorkerLostError", "billiard.exceptions",
                         "Worker exited prematurely: shutdown.", 0);
        }
        r->finished = 1;
        worker_request_done(w, r);
    }
}

static void on_cancel_grace(uv_timer_t *t)
{
    worker *w = t->data;
    abort_running(w);
    maybe_close(w);
}

static void on_shutdown_grace(uv_timer_t *t)
{
    worker *w = t->data;
    w->phase = WORKER_CANCELLED;
    log_warning("worker: %zu task(s) still running after %gs; asking them to "
                "stop",
                w->nrunning, w->cfg->shutdown_timeout);
    struct task_run *r = w->requests, *next;
    for (; r; r = next) {
        next = r->next;
        if (r->state == REQUEST_RUNNING)
            request_cancel(r, TASK_CANCEL_SHUTDOWN);
    }
    if (w->phase != WORKER_CLOSING)
        uv_timer_start(&w->shutdown_timer, on_cancel_grace, CANCEL_GRACE_MS, 0);
}

void worker_shutdown(worker *w, int cold)
{
    if (w->phase == WORKER_CLOSING)
        return;
    if (w->phase == WORKER_RUNNING) {
        log_warning("worker: %s shutdown (MainProcess)",
                    cold ? "Cold" : "Warm");
        sd_notify_send("STOPPING=1");
        w->phase = WORKER_DRAINING;
        w->broker->ops->stop_consuming(w->broker);
        hand_back_unstarted(w);
        if (!cold && w->nrunning > 0)
            uv_timer_start(&w->shutdown_timer, on_shutdown_grace,
                           (uint64_t)(w->cfg->shutdown_timeout * 1000), 0);
    } else if (cold) {
        log_warning("worker: Cold shutdown (MainProcess)");
    }
    if (cold) {
        w->phase = WORKER_CANCELLED;
        uv_timer_stop(&w->shutdown_timer);
        abort_running(w);
    }
    maybe_close(w);
}

static void on_signal(uv_signal_t *h, int signum)
{
    worker *w = h->data;
    /* A second TERM/INT during a warm shutdown escalates, as in Celery. */
    int cold = signum == SIGQUIT || w->phase != WORKER_RUNNING;
    worker_shutdown(w, cold);
}

worker *worker_new(uv_loop_t *loop, const config *cfg)
{
    worker *w = xcalloc(1, sizeof(*w));
    w->loop = loop;
    w->cfg = cfg;
    w->concurrency = cfg->concurrency;
    w->prefetch_limit = (size_t)cfg->concurrency * cfg->prefetch_multiplier;
    w->totals = json_object();
    w->limits = json_object();
    w->started_at = worker_now();
    w->revoked = json_object();
    uv_timer_init(loop, &w->touch_timer);
    uv_timer_init(loop, &w->shutdown_timer);
    uv_timer_init(loop, &w->watchdog_timer);
    uv_timer_init(loop, &w->state_timer);
    w->state_timer.data = w;
    w->touch_timer.data = w->shutdown_timer.data = w;
    w->watchdog_timer.data = w;
    uv_signal_init(loop, &w->sig_term);
    uv_signal_init(loop, &w->sig_int);
    uv_signal_init(loop, &w->sig_quit);
    w->sig_term.data = w->sig_int.data = w->sig_quit.data = w;
    return w;
}

static int make_backend(worker *w, buf *err)
{
    if (strcmp(w->cfg->result_backend, "disabled") == 0)
        return 0;
    redis_url u;
    if (redis_url_parse(w->cfg->result_backend, &u, err))
        return -1;
    w->backend = backend_redis_new(w->loop, &u, w->cfg->result_expires);
    redis_url_free(&u);
    return 0;
}

static void heartbeat_stats(void *data, unsigned long *active,
                            unsigned long *processed)
{
    worker *w = data;
    *active = w->nrunning;
    *processed = w->processed;
}

/* worker-online once the broker can carry it, as Celery's heart starts
 * after the connection. */
static void on_broker_ready(void *data)
{
    worker *w = data;
    if (!w->online && w->events && w->phase == WORKER_RUNNING) {
        w->online = 1;
        events_start(w->events);
    }
}

int worker_start(worker *w, buf *err)
{
    if (w->cfg->statedb && statedb_load(w->cfg->statedb, w->revoked,
                                        worker_now(), REVOKED_EXPIRES, err))
        return -1;
    redis_url u;
    if (redis_url_parse(w->cfg->broker_url, &u, err))
        return -1;
    broker_redis_options bo = {
        .queues = (const char *const *)w->cfg->queues,
        .nqueues = w->cfg->nqueues,
        .visibility_timeout = w->cfg->visibility_timeout,
        .max_message_size = w->cfg->max_message_size,
        .on_message = on_message,
        .on_ready = on_broker_ready,
        .data = w,
    };
    w->broker = broker_redis_new(w->loop, &u, &bo);
    w->control = control_new(w->loop, &u, w);
    w->events = events_new(w->loop, w->broker, w->cfg->hostname,
                           w->cfg->task_events, &w->clock, heartbeat_stats, w);
    mingle_start(w->loop, &u, w);
    redis_url_free(&u);
    if (make_backend(w, err))
        return -1;
    if (w->backend)
        w->backend->ops->start(w->backend);
    w->broker->ops->start(w->broker);
    control_start(w->control);
    update_credit(w);
    /* Held messages are re-stamped four times per visibility timeout, so
     * no other worker restores a message this worker still holds. */
    uint64_t touch_ms = (uint64_t)(w->cfg->visibility_timeout * 1000 / 4);
    uv_timer_start(&w->touch_timer, on_touch, touch_ms, touch_ms);
    uint64_t wd = sd_notify_watchdog_usec();
    if (wd)
        uv_timer_start(&w->watchdog_timer, on_watchdog, wd / 2000, wd / 2000);
    uv_signal_start(&w->sig_term, on_signal, SIGTERM);
    uv_signal_start(&w->sig_int, on_signal, SIGINT);
    uv_signal_start(&w->sig_quit, on_signal, SIGQUIT);
    sd_notify_send("READY=1\nSTATUS=consuming");
    return 0;
}

static void banner_url(buf *out, const char *url)
{
    redis_url u;
    buf ignored;
    buf_init(&ignored);
    if (redis_url_parse(url, &u, &ignored) == 0) {
        redis_url_format(out, &u);
        redis_url_free(&u);
    } else {
        buf_append_str(out, url);
    }
    buf_free(&ignored);
}

void worker_print_banner(const worker *w)
{
    const config *c = w->cfg;
    struct utsname un;
    uname(&un);
    buf b;
    buf_init(&b);
    buf_printf(&b, " -------------- %s v%s\n", c->hostname, POSETRACKD_VERSION);
    buf_printf(&b, "--- ***** ----- %s-%s-%s\n", un.sysname, un.release,
               un.machine);
    buf_append_str(&b, "- ** ---------- [config]\n");
    buf_append_str(&b, "- ** ---------- .> app:         posetrackd\n");
    buf_append_str(&b, "- ** ---------- .> transport:   ");
    banner_url(&b, c->broker_url);
    buf_append_str(&b, "\n- ** ---------- .> results:     ");
    banner_url(&b, c->result_backend);
    buf_printf(&b,
               "\n- *** --- * --- .> concurrency: %u (event loop), prefetch "
               "%zu%s\n",
               c->concurrency, w->prefetch_limit,
               c->acks_late ? ", acks late" : "");
    buf_append_str(&b, "--- ***** -----\n -------------- [queues]\n");
    for (size_t i = 0; i < c->nqueues; i++)
        buf_printf(&b, "                .> %-16s exchange=%s(direct) key=%s\n",
                   c->queues[i], c->queues[i], c->queues[i]);
    buf_append_str(&b, "\n[tasks]\n");
    for (size_t i = 0; i < task_registry_count(); i++)
        buf_printf(&b, "  . %s\n", task_registry_at(i)->name);
    buf_append_char(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    fflush(stdout);
    buf_free(&b);
}

void worker_free(worker *w)
{
    json_decref(w->revoked);
    json_decref(w->totals);
    json_decref(w->limits);
    while (w->rates) {
        task_rate *t = w->rates;
        w->rates = t->next;
        free(t->name);
        free(t->text);
        free(t);
    }
    free(w);
}
