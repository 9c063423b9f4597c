/* kombu_envelope: one encoder for every message posetrackd originates, so
 * replies and events cannot drift apart in shape. */
#include "kombu_envelope.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"

void kombu_envelope_encode(buf *out, const kombu_envelope *e)
{
    char *text = json_dumps(e->body, JSON_COMPACT | JSON_ENCODE_ANY);
    buf b64;
    buf_init(&b64);
    base64_encode(&b64, text ? text : "null", text ? strlen(text) : 4);
    free(text);
    json_t *headers = e->headers ? json_deep_copy(e->headers) : json_object();
    json_t *env = json_pack(
        "{s:s, s:s, s:s, s:o, s:{s:i, s:{s:s, s:s}, s:i, s:s, s:s}}", "body",
        b64.data ? b64.data : "", "content-encoding", "utf-8", "content-type",
        "application/json", "headers", headers, "properties", "delivery_mode",
        e->delivery_mode, "delivery_info", "exchange", e->exchange,
        "routing_key", e->routing_key, "priority", 0, "body_encoding", "base64",
        "delivery_tag", e->delivery_tag);
    buf_free(&b64);
    char *s = env ? json_dumps(env, 0) : NULL;
    json_decref(env);
    if (s)
        buf_append_str(out, s);
    free(s);
}

static json_t *decode_body(json_t *env, buf *err)
{
    const char *ct = json_string_value(json_object_get(env, "content-type"));
    json_t *body = json_object_get(env, "body");
    const char *enc = json_string_value(
        json_object_get(json_object_get(env, "properties"), "body_encoding"));
    if (!ct || strcmp(ct, "application/json") != 0) {
        buf_printf(err, "refusing a message of type %.80s", ct ? ct : "(none)");
        return NULL;
    }
    if (!json_is_string(body)) {
        buf_append_str(err, "message body is not a string");
        return NULL;
    }
    buf text;
    buf_init(&text);
    if (enc && strcmp(enc, "base64") == 0) {
        if (base64_decode(&text, json_string_value(body),
                          json_string_length(body))) {
            buf_free(&text);
            buf_append_str(err, "message body is not base64");
            return NULL;
        }
    } else {
        buf_append(&text, json_string_value(body), json_string_length(body));
    }
    json_error_t jerr;
    json_t *v = json_loadb(text.data ? text.data : "", text.len,
                           JSON_DECODE_INT_AS_REAL, &jerr);
    buf_free(&text);
    if (!json_is_object(v)) {
        buf_printf(err, "message body is not a JSON object%s%s", v ? "" : ": ",
                   v ? "" : jerr.text);
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *kombu_envelope_decode(const char *raw, size_t len, buf *err)
{
    json_error_t jerr;
    json_t *env = json_loadb(raw, len, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!json_is_object(env)) {
        buf_printf(err, "message is not a kombu envelope%s%s", env ? "" : ": ",
                   env ? "" : jerr.text);
        json_decref(env);
        return NULL;
    }
    json_t *body = decode_body(env, err);
    json_decref(env);
    return body;
}
