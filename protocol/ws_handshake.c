/* ws_handshake: HTTP/1.1 heads read line by line once the blank line that
 * ends them is in; only the fields the handshake needs are looked at. */
#include "ws_handshake.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "base64.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static void encode_into(char *out, size_t size, const void *src, size_t len)
{
    buf b;
    buf_init(&b);
    base64_encode(&b, src, len);
    size_t n = b.len < size - 1 ? b.len : size - 1;
    memcpy(out, b.data, n);
    out[n] = '\0';
    buf_free(&b);
}

void ws_handshake_key(char key[WS_KEY_SIZE])
{
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    /* The key only has to differ between connections (it is not a
     * secret); should getrandom ever fail, the address and time do. */
    for (size_t i = got; i < sizeof(raw); i++)
        raw[i] = (unsigned char)((uintptr_t)key >> (i % 8) ^ i * 131);
    encode_into(key, WS_KEY_SIZE, raw, sizeof(raw));
}

void ws_handshake_accept(const char *key, size_t len,
                         char accept[WS_ACCEPT_SIZE])
{
    buf in;
    buf_init(&in);
    buf_append(&in, key, len);
    buf_append_str(&in, ws_guid);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(in.data, in.len, md, &mdlen, EVP_sha1(), NULL);
    buf_free(&in);
    encode_into(accept, WS_ACCEPT_SIZE, md, mdlen);
}

void ws_handshake_request(buf *out, const ws_url *u, const char *key)
{
    int v6 = strchr(u->host, ':') != NULL;
    buf_printf(out, "GET %s HTTP/1.1\r\nHost: %s%s%s", u->target, v6 ? "[" : "",
               u->host, v6 ? "]" : "");
    if (u->port_given)
        buf_printf(out, ":%d", u->port);
    buf_printf(out,
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "User-Agent: posetrackd\r\n\r\n",
               key);
}

/* One "Name: value" line of a head, value trimmed. */
typedef struct field {
    const char *name, *value;
    size_t name_len, value_len;
} field;

/* Finds the end of the head. Returns 1 (*head_len through the blank
 * line), 0 (incomplete) or -1 (too long). */
static int head_end(const char *data, size_t len, size_t *head_len)
{
    const char *end = memmem(data, len, "\r\n\r\n", 4);
    if (!end)
        return len > WS_HANDSHAKE_MAX ? -1 : 0;
    *head_len = (size_t)(end - data) + 4;
    return *head_len > WS_HANDSHAKE_MAX ? -1 : 1;
}

/* Reads the line at *p (before end); returns 0 and advances, -1 at the
 * end of the head. */
static int next_field(const char **p, const char *end, field *f)
{
    const char *eol = memmem(*p, (size_t)(end - *p), "\r\n", 2);
    if (!eol || eol == *p)
        return -1;
    const char *colon = memchr(*p, ':', (size_t)(eol - *p));
    if (!colon) {
        f->name = *p;
        f->name_len = 0;
        f->value = *p;
        f->value_len = 0;
    } else {
        f->name = *p;
        f->name_len = (size_t)(colon - *p);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        f->value = v;
        f->value_len = (size_t)(ve - v);
    }
    *p = eol + 2;
    return 0;
}

static int is_field(const field *f, const char *name)
{
    return f->name_len == strlen(name) &&
           strncasecmp(f->name, name, f->name_len) == 0;
}

static int value_is(const field *f, const char *v)
{
    return f->value_len == strlen(v) &&
           strncasecmp(f->value, v, f->value_len) == 0;
}

/* A comma-separated list (Connection) holding token. */
static int value_has_token(const field *f, const char *token)
{
    size_t tl = strlen(token);
    const char *p = f->value, *end = f->value + f->value_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *te = comma ? comma : end;
        while (p < te && (*p == ' ' || *p == '\t'))
            p++;
        const char *q = te;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        if ((size_t)(q - p) == tl && strncasecmp(p, token, tl) == 0)
            return 1;
        p = te + (comma != NULL);
    }
    return 0;
}

static int refuse(const char **why, const char *what)
{
    *why = what;
    return -1;
}

int ws_handshake_response(const char *data, size_t len, const char *key,
                          size_t *used, const char **why)
{
    size_t hl;
    int r = head_end(data, len, &hl);
    if (r <= 0)
        return r < 0 ? refuse(why, "handshake response too long") : 0;
    const char *p = data, *end = data + hl;
    if (hl < 12 || strncmp(p, "HTTP/1.1 ", 9) != 0)
        return refuse(why, "not an HTTP/1.1 response");
    if (strncmp(p + 9, "101", 3) != 0 || (p[12] != ' ' && p[12] != '\r'))
        return refuse(why, "the server refused the upgrade");
    p = memmem(p, hl, "\r\n", 2) + 2;
    char want[WS_ACCEPT_SIZE];
    ws_handshake_accept(key, strlen(key), want);
    int upgrade = 0, connection = 0, accept = 0;
    field f;
    while (next_field(&p, end, &f) == 0) {
        if (is_field(&f, "Upgrade"))
            upgrade = value_is(&f, "websocket");
        else if (is_field(&f, "Connection"))
            connection = value_has_token(&f, "upgrade");
        else if (is_field(&f, "Sec-WebSocket-Accept"))
            accept = f.value_len == strlen(want) &&
                     memcmp(f.value, want, f.value_len) == 0;
        else if (is_field(&f, "Sec-WebSocket-Extensions") ||
                 is_field(&f, "Sec-WebSocket-Protocol"))
            return refuse(why, "the server chose an extension or "
                               "subprotocol not asked for");
    }
    if (!upgrade || !connection)
        return refuse(why, "the response does not upgrade to websocket");
    if (!accept)
        return refuse(why, "wrong Sec-WebSocket-Accept");
    *used = hl;
    return 1;
}

int ws_handshake_read_request(const char *data, size_t len, size_t *used,
                              buf *path, char accept[WS_ACCEPT_SIZE],
                              const char **why)
{
    size_t hl;
    int r = head_end(data, len, &hl);
    if (r <= 0)
        return r < 0 ? refuse(why, "request head too long") : 0;
    const char *p = data, *end = data + hl;
    const char *eol = memmem(p, hl, "\r\n", 2);
    size_t line = (size_t)(eol - p);
    if (line < 5 + 9 || strncmp(p, "GET /", 5) != 0 ||
        strncmp(eol - 9, " HTTP/1.1", 9) != 0 ||
        memchr(p + 4, ' ', line - 4 - 9))
        return refuse(why, "not a GET request for HTTP/1.1");
    const char *target = p + 4;
    size_t target_len = line - 4 - 9;
    int upgrade = 0, connection = 0, version = 0;
    const char *key = NULL;
    size_t key_len = 0;
    field f;
    p = eol + 2;
    while (next_field(&p, end, &f) == 0) {
        if (is_field(&f, "Upgrade"))
            upgrade = value_is(&f, "websocket");
        else if (is_field(&f, "Connection"))
            connection = value_has_token(&f, "upgrade");
        else if (is_field(&f, "Sec-WebSocket-Version"))
            version = value_is(&f, "13");
        else if (is_field(&f, "Sec-WebSocket-Key")) {
            key = f.value;
            key_len = f.value_len;
        }
    }
    if (!upgrade || !connection)
        return refuse(why, "not a websocket upgrade");
    if (!version)
        return refuse(why, "Sec-WebSocket-Version is not 13");
    if (!key || key_len != WS_KEY_SIZE - 1)
        return refuse(why, "no valid Sec-WebSocket-Key");
    buf_append(path, target, target_len);
    ws_handshake_accept(key, key_len, accept);
    *used = hl;
    return 1;
}

void ws_handshake_response_append(buf *out, const char *accept)
{
    buf_printf(out,
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
               accept);
}
