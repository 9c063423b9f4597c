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
