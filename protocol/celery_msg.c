/* celery_msg: decoding without building a tree. The envelope is validated
 * once by the span scanner, then each object is walked once and the fields
 * Celery defines are picked out by name; the body is only validated and
 * scanned into spans, so task arguments reach tasks byte for byte as the
 * client encoded them (big integers, exact floats, unicode).
 *
 * Field names and defaults follow celery/app/amqp.py (as_task_v2,
 * as_task_v1) and kombu/transport/virtual/base.py (Message). */
#include "celery_msg.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "isotime.h"

static const char content_json[] = "application/json";

/* Fills out[i] with the value of member names[i] of obj (len 0 when
 * absent). Later duplicates win, as in Python's json. */
static void pick(json_span obj, const char *const *names, size_t n,
                 json_span *out)
{
    memset(out, 0, n * sizeof(*out));
    size_t pos = 0;
    json_span key, val;
    while (json_span_object_next(obj, &pos, &key, &val)) {
        for (size_t i = 0; i < n; i++) {
            if (json_span_key_is(key, names[i])) {
                out[i] = val;
                break;
            }
        }
    }
}

/* A copy of a string value of at most max bytes without NUL or control
 * bytes, else NULL. Ids and names are used in Redis keys and log lines, so
 * anything unprintable is refused rather than escaped. */
static char *span_str(json_span v, size_t max)
{
    if (json_span_kind(v) != JSON_KIND_STRING || v.len > 6 * max + 2)
        return NULL;
    buf b;
    buf_init(&b);
    if (json_span_string(v, &b) || b.len > max) {
        buf_free(&b);
        return NULL;
    }
    for (size_t i = 0; i < b.len; i++) {
        if ((unsigned char)b.data[i] < 0x20) {
            buf_free(&b);
            return NULL;
        }
    }
    return buf_detach(&b, NULL);
}

/* 1 if v is the string lit exactly (no escapes needed for our literals). */
static int span_str_is(json_span v, const char *lit)
{
    size_t n = strlen(lit);
    return v.len == n + 2 && v.p[0] == '"' && memcmp(v.p + 1, lit, n) == 0;
}

static int get_time(json_span v, const char *name, int *has, double *out,
                    buf *err)
{
    *has = 0;
    if (v.len == 0 || json_span_kind(v) == JSON_KIND_NULL)
        return 0;
    char *s = span_str(v, 64);
    int ok = s && isotime_parse(s, strlen(s), out) == 0;
    free(s);
    if (!ok) {
        buf_printf(err, "%s is not an ISO-8601 time", name);
        return -1;
    }
    *has = 1;
    return 0;
}

static double positive_number(json_span v)
{
    double d;
    if (json_span_number(v, &d) || !(d > 0))
        return 0;
    return d;
}

static void read_timelimit(json_span tl, celery_msg *m)
{
    size_t pos = 0;
    json_span v;
    if (json_span_kind(tl) != JSON_KIND_ARRAY)
        return;
    if (json_span_array_next(tl, &pos, &v))
        m->time_limit = positive_number(v);
    if (json_span_array_next(tl, &pos, &v))
        m->soft_time_limit = positive_number(v);
}

enum {
    TF_ID,
    TF_TASK,
    TF_ETA,
    TF_EXPIRES,
    TF_TIMELIMIT,
    TF_RETRIES,
    TF_ROOT_ID,
    TF_PARENT_ID,
    TF_GROUP,
    TF_ORIGIN,
    TF_ARGSREPR,
    TF_KWARGSREPR,
    TF_IGNORE_RESULT,
    TF_ARGS,
    TF_KWARGS,
    TF_COUNT
};

static const char *const task_field_names[TF_COUNT] = {
    "id",       "task",       "eta",           "expires", "timelimit",
    "retries",  "root_id",    "parent_id",     "group",   "origin",
    "argsrepr", "kwargsrepr", "ignore_result", "args",    "kwargs"};

/* Fields common to v2 headers and the v1 body. */
static int read_task_fields(const json_span *f, celery_msg *m, buf *err)
{
    m->id = span_str(f[TF_ID], CELERY_MSG_MAX_NAME);
    m->task = span_str(f[TF_TASK], CELERY_MSG_MAX_NAME);
    if (!m->id) {
        buf_append_str(err, "missing or invalid task id");
        return -1;
    }
    if (!m->task) {
        buf_append_str(err, "missing or invalid task name");
        return -1;
    }
    double retries;
    if (json_span_number(f[TF_RETRIES], &retries) == 0 && retries >= 0 &&
        retries < 1e9)
        m->retries = (long)retries;
    if (get_time(f[TF_ETA], "eta", &m->has_eta, &m->eta, err) ||
        get_time(f[TF_EXPIRES], "expires", &m->has_expires, &m->expires, err))
        return -1;
    read_timelimit(f[TF_TIMELIMIT], m);
    m->root_id = span_str(f[TF_ROOT_ID], CELERY_MSG_MAX_NAME);
    m->parent_id = span_str(f[TF_PARENT_ID], CELERY_MSG_MAX_NAME);
    m->group = span_str(f[TF_GROUP], CELERY_MSG_MAX_NAME);
    m->origin = span_str(f[TF_ORIGIN], CELERY_MSG_MAX_NAME);
    m->ignore_result = json_span_kind(f[TF_IGNORE_RESULT]) == JSON_KIND_TRUE;
    return 0;
}

enum { PF_BODY_ENCODING, PF_TAG, PF_INFO, PF_PRIORITY, PF_REPLY_TO, PF_CORR };
static const char *const prop_names[] = {"body_encoding", "delivery_tag",
                                         "delivery_info", "priority",
                                         "reply_to",      "correlation_id"};

static void read_properties(json_span props, json_span *body_encoding,
                            celery_msg *m)
{
    json_span p[6], di[3];
    static const char *const di_names[] = {"exchange", "routing_key",
                                           "redelivered"};
    pick(props, prop_names, 6, p);
    pick(p[PF_INFO], di_names, 3, di);
    m->redelivered = json_span_kind(di[2]) == JSON_KIND_TRUE;
    *body_encoding = p[PF_BODY_ENCODING];
    m->delivery_tag = span_str(p[PF_TAG], CELERY_MSG_MAX_NAME);
    m->exchange = span_str(di[0], CELERY_MSG_MAX_NAME);
    m->routing_key = span_str(di[1], CELERY_MSG_MAX_NAME);
    m->reply_to = span_str(p[PF_REPLY_TO], CELERY_MSG_MAX_NAME);
    m->correlation_id = span_str(p[PF_CORR], CELERY_MSG_MAX_NAME);
    double pri;
    if (json_span_number(p[PF_PRIORITY], &pri) == 0 && pri >= 0 && pri <= 255)
        m->priority = (int)pri;
}

/* Decodes the body string into m->body per properties.body_encoding. */
static celery_msg_status decode_body(json_span body, json_span encoding,
                                     celery_msg *m, buf *err)
{
    buf text, out;
    buf_init(&text);
    buf_init(&out);
    celery_msg_status st = CELERY_MSG_OK;
    if (json_span_kind(body) != JSON_KIND_STRING ||
        json_span_string(body, &text)) {
        buf_append_str(err, "body is not a string");
        st = CELERY_MSG_DECODE_ERROR;
    } else if (span_str_is(encoding, "base64")) {
        if (base64_decode(&out, text.data, text.len) != 0) {
            buf_append_str(err, "body is not valid base64");
            st = CELERY_MSG_DECODE_ERROR;
        }
    } else if (encoding.len && json_span_kind(encoding) != JSON_KIND_NULL) {
        buf_printf(err, "unsupported body encoding %.*s",
                   (int)(encoding.len > 40 ? 40 : encoding.len), encoding.p);
        st = CELERY_MSG_DECODE_ERROR;
    } else {
        buf_append(&out, text.data, text.len);
    }
    buf_free(&text);
    if (st == CELERY_MSG_OK)
        m->body = buf_detach(&out, &m->body_len);
    buf_free(&out);
    return st;
}

static celery_msg_status check_content(json_span ct, json_span ce, buf *err)
{
    if (!span_str_is(ct, content_json)) {
        /* kombu's wording, so operators recognise it. */
        buf_printf(err,
                   "Refusing to deserialize untrusted content of type %.*s",
                   (int)(ct.len > 80 ? 80 : ct.len), ct.len ? ct.p : "(none)");
        return CELERY_MSG_DISALLOWED;
    }
    if (ce.len && !span_str_is(ce, "utf-8") && !span_str_is(ce, "utf8")) {
        buf_printf(err, "unsupported content encoding %.*s",
                   (int)(ce.len > 40 ? 40 : ce.len), ce.p);
        return CELERY_MSG_DECODE_ERROR;
    }
    return CELERY_MSG_OK;
}

static int check_args(celery_msg *m, buf *err)
{
    if (json_span_kind(m->args) != JSON_KIND_ARRAY) {
        buf_append_str(err, "task args must be a list");
        return -1;
    }
    if (json_span_kind(m->kwargs) != JSON_KIND_OBJECT) {
        buf_append_str(err, "task keyword arguments must be a mapping");
        return -1;
    }
    return 0;
}

/* v2 body: [args, kwargs, embed]. */
static celery_msg_status scan_v2_body(celery_msg *m, json_span body, buf *err)
{
    json_span parts[3];
    size_t pos = 0, n = 0;
    json_span v;
    if (json_span_kind(body) != JSON_KIND_ARRAY) {
        buf_append_str(err, "v2 body is not a list [args, kwargs, embed]");
        return CELERY_MSG_INVALID;
    }
    while (n < 4 && json_span_array_next(body, &pos, &v)) {
        if (n < 3)
            parts[n] = v;
        n++;
    }
    if (n != 3) {
        buf_append_str(err, "v2 body must have 3 items [args, kwargs, embed]");
        return CELERY_MSG_INVALID;
    }
    m->args = parts[0];
    m->kwargs = parts[1];
    if (check_args(m, err))
        return CELERY_MSG_INVALID;
    json_kind ek = json_span_kind(parts[2]);
    if (ek != JSON_KIND_OBJECT && ek != JSON_KIND_NULL) {
        buf_append_str(err, "task embed must be a mapping");
        return CELERY_MSG_INVALID;
    }
    return CELERY_MSG_OK;
}

static const json_span empty_args = {"[]", 2};
static const json_span empty_kwargs = {"{}", 2};

/* v1 body: a dict with task, id, args, kwargs and the scheduling fields. */
static celery_msg_status read_v1_body(celery_msg *m, json_span body, buf *err)
{
    json_span f[TF_COUNT];
    if (json_span_kind(body) != JSON_KIND_OBJECT) {
        buf_append_str(err, "message has no task name header and its body "
                            "is not a v1 task dict");
        return CELERY_MSG_INVALID;
    }
    pick(body, task_field_names, TF_COUNT, f);
    if (read_task_fields(f, m, err))
        return CELERY_MSG_INVALID;
    m->args = f[TF_ARGS].len ? f[TF_ARGS] : empty_args;
    m->kwargs = f[TF_KWARGS].len ? f[TF_KWARGS] : empty_kwargs;
    m->protocol = 1;
    return check_args(m, err) ? CELERY_MSG_INVALID : CELERY_MSG_OK;
}

enum { EF_BODY, EF_CT, EF_CE, EF_HEADERS, EF_PROPERTIES };
static const char *const env_names[] = {
    "body", "content-type", "content-encoding", "headers", "properties"};

static celery_msg_status decode_envelope(json_span env, celery_msg *m, buf *err)
{
    json_span e[5], h[TF_COUNT], encoding;
    pick(env, env_names, 5, e);
    read_properties(e[EF_PROPERTIES], &encoding, m);
    pick(e[EF_HEADERS], task_field_names, TF_COUNT, h);
    /* A header id without a task name is a broken v2 message, not v1. */
    int v2 = h[TF_TASK].len > 0 || h[TF_ID].len > 0;
    /* The id and name come first so that every later failure can be
     * answered with a FAILURE under the right id. */
    if (v2 && read_task_fields(h, m, err))
        return CELERY_MSG_INVALID;
    if (v2) {
        m->argsrepr = span_str(h[TF_ARGSREPR], 1 << 20);
        m->kwargsrepr = span_str(h[TF_KWARGSREPR], 1 << 20);
    }
    celery_msg_status st = check_content(e[EF_CT], e[EF_CE], err);
    if (st == CELERY_MSG_OK)
        st = decode_body(e[EF_BODY], encoding, m, err);
    if (st != CELERY_MSG_OK)
        return st;
    json_span body;
    if (!json_span_whole(m->body, m->body_len, &body)) {
        buf_append_str(err, "body is not valid UTF-8 JSON");
        return CELERY_MSG_DECODE_ERROR;
    }
    if (!v2)
        return read_v1_body(m, body, err);
    m->protocol = 2;
    return scan_v2_body(m, body, err);
}

celery_msg_status celery_msg_decode(const char *raw, size_t len, celery_msg *m,
                                    buf *err)
{
    memset(m, 0, sizeof(*m));
    json_span env;
    if (!json_span_whole(raw, len, &env)) {
        buf_append_str(err, "envelope is not valid JSON");
        return CELERY_MSG_BAD_ENVELOPE;
    }
    if (json_span_kind(env) != JSON_KIND_OBJECT) {
        buf_append_str(err, "envelope is not a JSON object");
        return CELERY_MSG_BAD_ENVELOPE;
    }
    return decode_envelope(env, m, err);
}

void celery_msg_free(celery_msg *m)
{
    char **fields[] = {&m->id,
                       &m->task,
                       &m->root_id,
                       &m->parent_id,
                       &m->group,
                       &m->origin,
                       &m->argsrepr,
                       &m->kwargsrepr,
                       &m->delivery_tag,
                       &m->exchange,
                       &m->routing_key,
                       &m->reply_to,
                       &m->correlation_id,
                       &m->body};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

void celery_msg_status_exc(celery_msg_status st, const char **exc_type,
                           const char **exc_module)
{
    switch (st) {
    case CELERY_MSG_DISALLOWED:
        *exc_type = "ContentDisallowed";
        *exc_module = "kombu.exceptions";
        break;
    case CELERY_MSG_DECODE_ERROR:
        *exc_type = "DecodeError";
        *exc_module = "kombu.exceptions";
        break;
    default:
        *exc_type = "InvalidTaskError";
        *exc_module = "celery.exceptions";
        break;
    }
}
