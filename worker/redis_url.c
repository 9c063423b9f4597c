/* redis_url: strict parsing, because a typo in a broker URL should stop the
 * daemon at start-up with a line saying what is wrong, not connect
 * somewhere unexpected. Percent-escapes in credentials are decoded as
 * kombu does. */
#include "redis_url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static char *unquote(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n + 1 && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    return d;
}

static int parse_int(const char *s, size_t n, int lo, int hi, int *out)
{
    if (n == 0 || n > 9)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int redis_url_is_redis(const char *url)
{
    return strncmp(url, "redis://", 8) == 0 ||
           strncmp(url, "redis+socket://", 15) == 0 ||
           strncmp(url, "unix://", 7) == 0;
}

static int parse_socket(const char *rest, redis_url *out, buf *err)
{
    const char *q = strchr(rest, '?');
    size_t plen = q ? (size_t)(q - rest) : strlen(rest);
    if (plen == 0 || rest[0] != '/') {
        buf_append_str(err, "socket URL needs an absolute path");
        return -1;
    }
    out->socket = xstrndup(rest, plen);
    if (q) {
        const char *db = strstr(q, "virtual_host=");
        if (!db)
            db = strstr(q, "db=");
        if (db) {
            db = strchr(db, '=') + 1;
            size_t n = strcspn(db, "&");
            if (parse_int(db, n, 0, 65535, &out->db)) {
                buf_append_str(err, "invalid database number");
                return -1;
            }
        }
    }
    return 0;
}

static int parse_auth(const char *s, size_t n, redis_url *out)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) {
        /* redis://password@host, as redis-py reads a lone user part */
        out->password = unquote(s, n);
        return 0;
    }
    if (colon > s)
        out->username = unquote(s, (size_t)(colon - s));
    out->password = unquote(colon + 1, n - (size_t)(colon + 1 - s));
    return 0;
}

static int parse_tcp(const char *rest, redis_url *out, buf *err)
{
    size_t hostpart = strcspn(rest, "/?");
    const char *at = NULL;
    for (size_t i = 0; i < hostpart; i++)
        if (rest[i] == '@')
            at = rest + i;
    const char *h = rest;
    if (at) {
        parse_auth(rest, (size_t)(at - rest), out);
        h = at + 1;
    }
    size_t hlen = hostpart - (size_t)(h - rest);
    const char *colon = memchr(h, ':', hlen);
    size_t namelen = colon ? (size_t)(colon - h) : hlen;
    out->host = namelen ? xstrndup(h, namelen) : xstrdup("localhost");
    out->port = 6379;
    if (colon &&
        parse_int(colon + 1, hlen - namelen - 1, 1, 65535, &out->port)) {
        buf_append_str(err, "invalid port");
        return -1;
    }
    const char *path = rest + hostpart;
    if (*path == '/') {
        path++;
        size_t n = strcspn(path, "?");
        if (n && parse_int(path, n, 0, 65535, &out->db)) {
            buf_printf(err, "invalid database number '%.*s'", (int)n, path);
            return -1;
        }
    }
    return 0;
}

int redis_url_parse(const char *url, redis_url *out, buf *err)
{
    memset(out, 0, sizeof(*out));
    int rc;
    if (strncmp(url, "redis://", 8) == 0) {
        rc = parse_tcp(url + 8, out, err);
    } else if (strncmp(url, "redis+socket://", 15) == 0) {
        rc = parse_socket(url + 15, out, err);
    } else if (strncmp(url, "unix://", 7) == 0) {
        rc = parse_socket(url + 7, out, err);
    } else {
        buf_append_str(err, "not a redis:// or redis+socket:// URL");
        rc = -1;
    }
    if (rc)
        redis_url_free(out);
    return rc;
}

void redis_url_free(redis_url *u)
{
    free(u->host);
    free(u->socket);
    free(u->username);
    free(u->password);
    memset(u, 0, sizeof(*u));
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void redis_url_copy(redis_url *dst, const redis_url *src)
{
    dst->host = dup_or_null(src->host);
    dst->socket = dup_or_null(src->socket);
    dst->username = dup_or_null(src->username);
    dst->password = dup_or_null(src->password);
    dst->port = src->port;
    dst->db = src->db;
}

void redis_url_format(buf *out, const redis_url *u)
{
    if (u->socket) {
        buf_printf(out, "redis+socket://%s?virtual_host=%d", u->socket, u->db);
        return;
    }
    buf_append_str(out, "redis://");
    if (u->password)
        buf_printf(out, "%s:**@", u->username ? u->username : "");
    buf_printf(out, "%s:%d/%d", u->host, u->port, u->db);
}
