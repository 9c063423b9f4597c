/* pidbox: control messages are rare and small, so they are decoded into
 * jansson values (their arguments vary by command); the size bound keeps a
 * hostile broadcast from costing more than a megabyte. */
#include "pidbox.h"

#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "kombu_envelope.h"

static char *dup_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? xstrdup(s) : NULL;
}

int pidbox_request_decode(const char *raw, size_t len, pidbox_request *out,
                          buf *err)
{
    memset(out, 0, sizeof(*out));
    if (len > PIDBOX_MAX_MESSAGE) {
        buf_printf(err, "control message of %zu bytes is over the limit", len);
        return -1;
    }
    json_t *body = kombu_envelope_decode(raw, len, err);
    if (!body)
        return -1;
    out->method = dup_str(body, "method");
    json_t *args = json_object_get(body, "arguments");
    json_t *dest = json_object_get(body, "destination");
    json_t *reply_to = json_object_get(body, "reply_to");
    int rc = 0;
    if (!out->method) {
        buf_append_str(err, "control message has no method");
        rc = -1;
    } else if (args && !json_is_object(args) && !json_is_null(args)) {
        buf_append_str(err, "control message arguments are not a mapping");
        rc = -1;
    } else if (dest && !json_is_null(dest) && !json_is_array(dest)) {
        buf_append_str(err, "control message destination is not a list");
        rc = -1;
    } else {
        out->arguments =
            json_is_object(args) ? json_incref(args) : json_object();
        out->destination = json_is_array(dest) ? json_incref(dest) : NULL;
        out->pattern = dup_str(body, "pattern");
        out->matcher = dup_str(body, "matcher");
        out->ticket = dup_str(body, "ticket");
        out->reply_exchange = dup_str(reply_to, "exchange");
        out->reply_routing_key = dup_str(reply_to, "routing_key");
        if (out->ticket && (!out->reply_exchange || !out->reply_routing_key)) {
            free(out->ticket);
            out->ticket = NULL;
        }
    }
    json_decref(body);
    if (rc)
        pidbox_request_free(out);
    return rc;
}

void pidbox_request_free(pidbox_request *r)
{
    free(r->method);
    json_decref(r->arguments);
    json_decref(r->destination);
    free(r->pattern);
    free(r->matcher);
    free(r->ticket);
    free(r->reply_exchange);
    free(r->reply_routing_key);
    memset(r, 0, sizeof(*r));
}

/* kombu.utils.functional.match: 'glob' is fnmatch, 'pcre' a regular
 * expression (POSIX extended here) matched at the start. */
static int matches(const char *hostname, const char *pattern,
                   const char *matcher)
{
    if (!matcher || strcmp(matcher, "glob") == 0)
        return fnmatch(pattern, hostname, 0) == 0;
    if (strcmp(matcher, "pcre") == 0) {
        regex_t re;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
            return 0;
        regmatch_t m;
        int ok = regexec(&re, hostname, 1, &m, 0) == 0;
        regfree(&re);
        return ok;
    }
    return 0;
}

int pidbox_request_is_for(const pidbox_request *r, const char *hostname)
{
    if (r->destination && json_array_size(r->destination) > 0) {
        size_t i;
        json_t *v;
        json_array_foreach(r->destination, i, v)
        {
            const char *s = json_string_value(v);
            if (s && strcmp(s, hostname) == 0)
                return 1;
        }
        return 0;
    }
    if (r->pattern && r->matcher)
        return matches(hostname, r->pattern, r->matcher);
    return 1;
}

void pidbox_reply_encode(buf *out, const char *hostname, const json_t *reply,
                         const pidbox_request *req, const char *delivery_tag)
{
    json_t *body = json_object();
    json_object_set(body, hostname, (json_t *)reply);
    json_t *headers =
        json_pack("{s:s, s:i}", "ticket", req->ticket, "clock", 0);
    kombu_envelope e = {body,
                        headers,
                        req->reply_exchange,
                        req->reply_routing_key,
                        delivery_tag,
                        KOMBU_DELIVERY_TRANSIENT};
    kombu_envelope_encode(out, &e);
    json_decref(headers);
    json_decref(body);
}
