/* buf: growable byte buffers and the checked allocators everything uses.
 *
 * JSON string escaping lives here because every encoder needs it and it
 * must treat network bytes as untrusted: invalid UTF-8 is replaced, never
 * copied through. */
#include "buf.h"
#include "utf8.h"

#include <stdint.h>
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

/* "00" "01" ... "99": two digits per lookup. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Two digits of a pair as they lie in memory. */
static uint16_t pair_at(uint32_t v)
{
    uint16_t x;
    memcpy(&x, digit_pairs + 2 * v, 2);
    return x;
}

/* The digits of u (< 10^9 here) at p, most significant first; returns
 * their count. */
static size_t format_uint(char *p, uint64_t u)
{
    char tmp[20], *q = tmp + sizeof(tmp);
    while (u >= 100) {
        q -= 2;
        memcpy(q, digit_pairs + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        q -= 2;
        memcpy(q, digit_pairs + 2 * u, 2);
    } else {
        *--q = (char)('0' + u);
    }
    size_t n = (size_t)(tmp + sizeof(tmp) - q);
    memcpy(p, q, n);
    return n;
}

/* u / 10^places and u % 10^places, each with a constant divisor (a
 * multiplication, where a variable one is a slow division). */
static void split_decimal(uint64_t u, int places, uint64_t *whole,
                          uint64_t *frac)
{
#define SPLIT(k, d)                                                            \
    case k:                                                                    \
        *whole = u / d;                                                        \
        *frac = u % d;                                                         \
        return;
    switch (places) {
        SPLIT(1, 10u)
        SPLIT(2, 100u)
        SPLIT(3, 1000u)
        SPLIT(4, 10000u)
        SPLIT(5, 100000u)
        SPLIT(6, 1000000u)
        SPLIT(7, 10000000u)
        SPLIT(8, 100000000u)
    default:
        *whole = u;
        *frac = 0;
    }
#undef SPLIT
}

/* Fixed-point through a 64-bit integer: exact for the magnitudes the
 * tracker streams (|v| < 1e9 at 6 places) and several times faster than
 * printf; anything larger takes printf's shortest round-trip form. */
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
    char *p = dst;
    if (n < 0)
        *p++ = '-';
    uint64_t u = n < 0 ? (uint64_t)-n : (uint64_t)n;
    uint64_t whole, frac;
    split_decimal(u, places, &whole, &frac);
    if (whole < 10)
        *p++ = (char)('0' + whole);
    else
        p += format_uint(p, whole);
    if (frac == 0)
        return (size_t)(p - dst);
    /* The fraction as eight digits (with its leading zeros) in one word:
     * four pairs, each from its own division so they do not wait on one
     * another. Its last `places` digits go out in one 8-byte store (dst
     * has the room), then its trailing zeros are left out. */
    uint32_t f = (uint32_t)frac;
    uint64_t w = (uint64_t)pair_at(f / 1000000) |
                 (uint64_t)pair_at(f / 10000 % 100) << 16 |
                 (uint64_t)pair_at(f / 100 % 100) << 32 |
                 (uint64_t)pair_at(f % 100) << 48;
    w >>= 8 * (8 - places); /* little-endian: the first digits go */
    *p++ = '.';
    memcpy(p, &w, 8);
    /* Trailing zeros, counted without a branch per digit: the kept
     * digits that are '0' become zero bytes; frac != 0, so some is not. */
    uint64_t nonzero = w ^ 0x3030303030303030u;
    if (places < 8)
        nonzero &= (1ull << (8 * places)) - 1;
    int zeros = (__builtin_clzll(nonzero) >> 3) - (8 - places);
    p += places - zeros;
    return (size_t)(p - dst);
}

void buf_append_decimal(buf *b, double v, int places)
{
    buf_reserve(b, BUF_DECIMAL_MAX);
    b->len += buf_format_decimal(b->data + b->len, v, places);
    b->data[b->len] = '\0';
}
