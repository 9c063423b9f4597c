/* celery_msg: the kombu envelope is parsed with jansson (it is small and
 * fully read); the body is only validated and scanned into spans, so task
 * arguments reach tasks byte for byte as the client encoded them.
 *
 * Field names and defaults follow celery/app/amqp.py (as_task_v2,
 * as_task_v1) and kombu/transport/virtual/base.py (Message). */
#include "celery_msg.h"

#include <jansson.h>
#include <string.h>

#include "base64.h"
#include "isotime.h"

static const char content_json[] = "application/json";

/* A copy of obj[key] if it is a string of at most max bytes without NUL
 * or control bytes, else NULL. Ids and names are used in Redis keys and log
 * lines, so anything unprintable is refused rather than escaped. */
static char *get_str(json_t *obj, const char *key, size_t max)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > max)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return NULL;
    return xstrndup(s, n);
}

static int get_time(json_t *obj, const char *key, double *out, buf *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v) &&
        isotime_parse(json_string_value(v), json_string_length(v), out) == 0)
        return 1;
    buf_printf(err, "%s is not an ISO-8601 time", key);
    return -1;
}

static double get_positive(json_t *v)
{
    if (!json_is_number(v))
        return 0;
    double d = json_number_value(v);
    return d > 0 ? d : 0;
}

static void read_timelimit(json_t *tl, celery_msg *m)
{
    if (!json_is_array(tl))
        return;
    m->time_limit = get_positive(json_array_get(tl, 0));
    m->soft_time_limit = get_positive(json_array_get(tl, 1));
}

/* Fields common to v2 headers and the v1 body. */
static int read_task_fields(json_t *h, celery_msg *m, buf *err)
{
    m->id = get_str(h, "id", CELERY_MSG_MAX_NAME);
    m->task = get_str(h, "task", CELERY_MSG_MAX_NAME);
    if (!m->id) {
        buf_append_str(err, "missing or invalid task id");
        return -1;
    }
    if (!m->task) {
        buf_append_str(err, "missing or invalid task name");
        return -1;
    }
    json_t *r = json_object_get(h, "retries");
    m->retries = json_is_number(r) ? (long)json_number_value(r) : 0;
    int e = get_time(h, "eta", &m->eta, err);
    int x = get_time(h, "expires", &m->expires, err);
    if (e < 0 || x < 0)
        return -1;
    m->has_eta = e;
    m->has_expires = x;
    read_timelimit(json_object_get(h, "timelimit"), m);
    return 0;
}

static void read_properties(json_t *env, celery_msg *m)
{
    json_t *props = json_object_get(env, "properties");
    json_t *di = json_object_get(props, "delivery_info");
    m->delivery_tag = get_str(props, "delivery_tag", CELERY_MSG_MAX_NAME);
    m->exchange = get_str(di, "exchange", CELERY_MSG_MAX_NAME);
    m->routing_key = get_str(di, "routing_key", CELERY_MSG_MAX_NAME);
    m->reply_to = get_str(props, "reply_to", CELERY_MSG_MAX_NAME);
    m->correlation_id = get_str(props, "correlation_id", CELERY_MSG_MAX_NAME);
    json_t *pri = json_object_get(props, "priority");
    m->priority = json_is_number(pri) ? (int)json_number_value(pri) : 0;
}

/* Decodes the body string into m->body per properties.body_encoding. */
static celery_msg_status decode_body(json_t *env, celery_msg *m, buf *err)
{
    json_t *body = json_object_get(env, "body");
    if (!json_is_string(body)) {
        buf_append_str(err, "body is not a string");
        return CELERY_MSG_DECODE_ERROR;
    }
    json_t *props = json_object_get(env, "properties");
    const char *enc = json_string_value(json_object_get(props, "body_encoding"));
    buf out;
    buf_init(&out);
    if (enc && strcmp(enc, "base64") == 0) {
        if (base64_decode(&out, json_string_value(body),
                          json_string_length(body)) != 0) {
            buf_free(&out);
            buf_append_str(err, "body is not valid base64");
            return CELERY_MSG_DECODE_ERROR;
        }
    } else if (enc) {
        buf_printf(err, "unsupported body encoding '%.40s'", enc);
        return CELERY_MSG_DECODE_ERROR;
    } else {
        buf_append(&out, json_string_value(body), json_string_length(body));
    }
    m->body = buf_detach(&out, &m->body_len);
    return CELERY_MSG_OK;
}

static celery_msg_status check_content(json_t *env, buf *err)
{
    const char *ct = json_string_value(json_object_get(env, "content-type"));
    const char *ce =
        json_string_value(json_object_get(env, "content-encoding"));
    if (!ct || strcmp(ct, content_json) != 0) {
        /* kombu's wording, so operators recognise it. */
        buf_printf(err,
                   "Refusing to deserialize untrusted content of type %.80s",
                   ct ? ct : "(none)");
        return CELERY_MSG_DISALLOWED;
    }
    if (ce && strcmp(ce, "utf-8") != 0 && strcmp(ce, "utf8") != 0) {
        buf_printf(err, "unsupported content encoding '%.40s'", ce);
        return CELERY_MSG_DECODE_ERROR;
    }
    return CELERY_MSG_OK;
}

/* v2 body: [args, kwargs, embed]. */
static celery_msg_status scan_v2_body(celery_msg *m, json_span body, buf *err)
{
    if (json_span_kind(body) != JSON_KIND_ARRAY) {
        buf_append_str(err, "v2 body is not a list [args, kwargs, embed]");
        return CELERY_MSG_INVALID;
    }
    json_span parts[3];
    size_t pos = 0, n = 0;
    json_span v;
    while (json_span_array_next(body, &pos, &v)) {
        if (n == 3) {
            n++;
            break;
        }
        parts[n++] = v;
    }
    if (n != 3) {
        buf_append_str(err, "v2 body must have 3 items [args, kwargs, embed]");
        return CELERY_MSG_INVALID;
    }
    json_kind ek = json_span_kind(parts[2]);
    if (json_span_kind(parts[0]) != JSON_KIND_ARRAY) {
        buf_append_str(err, "task args must be a list");
        return CELERY_MSG_INVALID;
    }
    if (json_span_kind(parts[1]) != JSON_KIND_OBJECT) {
        buf_append_str(err, "task keyword arguments must be a mapping");
        return CELERY_MSG_INVALID;
    }
    if (ek != JSON_KIND_OBJECT && ek != JSON_KIND_NULL) {
        buf_append_str(err, "task embed must be a mapping");
        return CELERY_MSG_INVALID;
    }
    m->args = parts[0];
    m->kwargs = parts[1];
    return CELERY_MSG_OK;
}

static const json_span empty_args = {"[]", 2};
static const json_span empty_kwargs = {"{}", 2};

/* v1 body: a dict with task, id, args, kwargs and the scheduling fields. */
static celery_msg_status read_v1_body(celery_msg *m, json_span body, buf *err)
{
    if (json_span_kind(body) != JSON_KIND_OBJECT) {
        buf_append_str(err, "message has no task name header and its body "
                            "is not a v1 task dict");
        return CELERY_MSG_INVALID;
    }
    json_error_t jerr;
    json_t *d = json_loadb(body.p, body.len,
                           JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    if (!d) {
        buf_printf(err, "v1 body: %s", jerr.text);
        return CELERY_MSG_DECODE_ERROR;
    }
    int rc = read_task_fields(d, m, err);
    json_decref(d);
    if (rc)
        return CELERY_MSG_INVALID;
    m->args = empty_args;
    m->kwargs = empty_kwargs;
    size_t pos = 0;
    json_span key, val;
    while (json_span_object_next(body, &pos, &key, &val)) {
        if (json_span_key_is(key, "args"))
            m->args = val;
        else if (json_span_key_is(key, "kwargs"))
            m->kwargs = val;
    }
    if (json_span_kind(m->args) != JSON_KIND_ARRAY) {
        buf_append_str(err, "task args must be a list");
        return CELERY_MSG_INVALID;
    }
    if (json_span_kind(m->kwargs) != JSON_KIND_OBJECT) {
        buf_append_str(err, "task keyword arguments must be a mapping");
        return CELERY_MSG_INVALID;
    }
    m->protocol = 1;
    return CELERY_MSG_OK;
}

static void read_v2_headers(json_t *h, celery_msg *m)
{
    m->root_id = get_str(h, "root_id", CELERY_MSG_MAX_NAME);
    m->parent_id = get_str(h, "parent_id", CELERY_MSG_MAX_NAME);
    m->group = get_str(h, "group", CELERY_MSG_MAX_NAME);
    m->origin = get_str(h, "origin", CELERY_MSG_MAX_NAME);
    m->argsrepr = get_str(h, "argsrepr", 1 << 20);
    m->kwargsrepr = get_str(h, "kwargsrepr", 1 << 20);
    m->ignore_result = json_is_true(json_object_get(h, "ignore_result"));
}

static celery_msg_status decode_envelope(json_t *env, celery_msg *m, buf *err)
{
    read_properties(env, m);
    json_t *h = json_object_get(env, "headers");
    int v2 = json_is_object(h) && json_object_get(h, "task");
    /* The id and name come first so that every later failure can be
     * answered with a FAILURE under the right id. */
    if (v2 && read_task_fields(h, m, err))
        return CELERY_MSG_INVALID;
    if (v2)
        read_v2_headers(h, m);
    celery_msg_status st = check_content(env, err);
    if (st == CELERY_MSG_OK)
        st = decode_body(env, m, err);
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

celery_msg_status celery_msg_decode(const char *raw, size_t len,
                                    celery_msg *m, buf *err)
{
    memset(m, 0, sizeof(*m));
    json_error_t jerr;
    json_t *env = json_loadb(raw, len, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!env) {
        buf_printf(err, "envelope is not JSON: %s at byte %d", jerr.text,
                   jerr.position);
        return CELERY_MSG_BAD_ENVELOPE;
    }
    if (!json_is_object(env)) {
        json_decref(env);
        buf_append_str(err, "envelope is not a JSON object");
        return CELERY_MSG_BAD_ENVELOPE;
    }
    celery_msg_status st = decode_envelope(env, m, err);
    json_decref(env);
    return st;
}

void celery_msg_free(celery_msg *m)
{
    char **fields[] = {&m->id,        &m->task,       &m->root_id,
                       &m->parent_id, &m->group,      &m->origin,
                       &m->argsrepr,  &m->kwargsrepr, &m->delivery_tag,
                       &m->exchange,  &m->routing_key, &m->reply_to,
                       &m->correlation_id, &m->body};
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
