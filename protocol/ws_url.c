/* ws_url: RFC 6455 §3 URLs. The fragment is not part of the request; a
 * URL with userinfo ("user@host") is refused rather than sent on with
 * credentials nobody asked for. */
#include "ws_url.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int has_control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 1;
    return 0;
}

/* A registered name holds letters, digits and "-._~" (RFC 3986's
 * unreserved set: what DNS names use); an [IPv6] literal, hex digits,
 * colons and dots, then perhaps "%zone" (a name again). */
static int host_ok(const char *p, const char *end, int v6)
{
    for (; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        int hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                  (ch >= 'A' && ch <= 'F');
        if (v6 && ch == '%')
            return host_ok(p + 1, end, 0) && p + 1 < end;
        if (v6 ? !(hex || ch == ':' || ch == '.')
               : !(hex || (ch >= 'g' && ch <= 'z') ||
                   (ch >= 'G' && ch <= 'Z') || ch == '.' || ch == '-' ||
                   ch == '_' || ch == '~'))
            return 0;
    }
    return 1;
}

/* Reads "1".."65535" from [p, end) exactly; -1 otherwise. */
static int read_port(const char *p, const char *end)
{
    long port = 0;
    if (p == end)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || port > 65535)
            return -1;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535 ? (int)port : -1;
}

int ws_url_parse(const char *url, ws_url *u)
{
    memset(u, 0, sizeof(*u));
    const char *host = strncmp(url, "ws://", 5) == 0    ? url + 5
                       : strncmp(url, "wss://", 6) == 0 ? url + 6
                                                        : NULL;
    if (!host || has_control_chars(url))
        return -1;
    u->tls = url[2] == 's';
    const char *end = host + strcspn(host, "/?#");
    if (memchr(host, '@', (size_t)(end - host)))
        return -1;
    const char *name = host, *name_end, *after;
    if (*host == '[') {
        name = host + 1;
        name_end = memchr(name, ']', (size_t)(end - name));
        if (!name_end)
            return -1;
        after = name_end + 1;
    } else {
        name_end = memchr(host, ':', (size_t)(end - host));
        if (!name_end)
            name_end = end;
        after = name_end;
    }
    if (name_end == name || !host_ok(name, name_end, *host == '['))
        return -1;
    if (after < end) {
        if (*after != ':' || (u->port = read_port(after + 1, end)) < 0)
            return -1;
        u->port_given = 1;
    } else {
        u->port = u->tls ? 443 : 80;
    }
    const char *frag = strchr(end, '#');
    size_t tlen = frag ? (size_t)(frag - end) : strlen(end);
    u->host = xstrndup(name, (size_t)(name_end - name));
    u->target = xmalloc(tlen + 2);
    size_t at = 0;
    if (tlen == 0 || *end != '/')
        u->target[at++] = '/';
    memcpy(u->target + at, end, tlen);
    u->target[at + tlen] = '\0';
    return 0;
}

void ws_url_free(ws_url *u)
{
    free(u->host);
    free(u->target);
    memset(u, 0, sizeof(*u));
}
