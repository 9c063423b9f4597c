/* buf: growable byte buffers and the checked allocators everything uses.
 *
 * JSON string escaping lives here because every encoder needs it and it
 * must treat network bytes as untrusted: invalid UTF-8 is replaced, never
 * copied through. */
#include "buf.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("posetrackd: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("posetrackd: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("posetrackd: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

void buf_init(buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_reserve(buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0';
}

void buf_append(buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_append_str(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_append_char(buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_append_json_str(buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    buf_reserve(b, len + 2);
    buf_append_char(b, '"');
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            size_t start = i;
            while (i < len && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\' &&
                   p[i] < 0x80)
                i++;
            buf_append(b, s + start, i - start);
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '\n':
                buf_append(b, "\\n", 2);
                break;
            case '\r':
                buf_append(b, "\\r", 2);
                break;
            case '\t':
                buf_append(b, "\\t", 2);
                break;
            default:
                buf_append(b, esc, 6);
            }
            i++;
        } else {
            size_t n = utf8_seq_len(p + i, len - i);
            if (n == 0) {
                buf_append(b, "\xef\xbf\xbd", 3);
                i++;
            } else {
                buf_append(b, s + i, n);
                i += n;
            }
        }
    }
    buf_append_char(b, '"');
}

char *buf_detach(buf *b, size_t *len)
{
    if (!b->data)
        buf_reserve(b, 0);
    char *d = b->data;
    if (len)
        *len = b->len;
    buf_init(b);
    return d;
}

/* Fixed-point through a 64-bit integer: exact for the magnitudes the
 * tracker streams (|v| < 1e9 at 6 places) and several times faster than
 * printf; anything larger takes printf's shortest round-trip form. The
 * digits are written backwards into a small array, then copied once. */
size_t buf_format_decimal(char *dst, double v, int places)
{
    static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    if (places < 0)
        places = 0;
    if (places > 8)
        places = 8;
    if (!(v > -1e9 && v < 1e9))
        return (size_t)snprintf(dst, BUF_DECIMAL_MAX, "%.17g",
                                v != v ? 0.0 : v);
    double r = v * scale[places];
    long long n = (long long)(r < 0 ? r - 0.5 : r + 0.5);
    char tmp[32], *p = tmp + sizeof(tmp);
    int neg = n < 0;
    unsigned long long u = neg ? (unsigned long long)-n : (unsigned long long)n;
    int frac = places;
    /* Trailing zeros of the fraction are left out, and the point too
     * when nothing remains after it. */
    while (frac > 0 && u % 10 == 0)
        u /= 10, frac--;
    for (int i = 0; i < frac; i++, u /= 10)
        *--p = (char)('0' + u % 10);
    if (frac > 0)
        *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    size_t len = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, len);
    return len;
}

void buf_append_decimal(buf *b, double v, int places)
{
    buf_reserve(b, BUF_DECIMAL_MAX);
    b->len += buf_format_decimal(b->data + b->len, v, places);
    b->data[b->len] = '\0';
}
