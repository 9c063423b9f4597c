/* json_span: a validating JSON scanner (RFC 8259) that records where values
 * are instead of building them.
 *
 * It accepts exactly what a strict parser accepts: no NaN/Infinity, no
 * trailing commas, UTF-8 checked in strings, escapes checked. Depth is
 * bounded by JSON_SPAN_MAX_DEPTH so hostile nesting cannot exhaust the
 * stack. */
#include "json_span.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct scanner {
    const char *s;
    size_t len;
    size_t pos;
} scanner;

static void skip_ws(scanner *sc)
{
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static int scan_string(scanner *sc)
{
    sc->pos++; /* opening quote */
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (sc->pos + 1 >= sc->len)
                return 0;
            char e = sc->s[sc->pos + 1];
            if (e == 'u') {
                if (sc->pos + 6 > sc->len)
                    return 0;
                for (int i = 2; i < 6; i++)
                    if (!is_hex(sc->s[sc->pos + i]))
                        return 0;
                sc->pos += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                sc->pos += 2;
            } else {
                return 0;
            }
            continue;
        }
        if (c < 0x80) {
            sc->pos++;
            continue;
        }
        size_t n = utf8_seq_len((const unsigned char *)sc->s + sc->pos,
                                sc->len - sc->pos);
        if (n == 0)
            return 0;
        sc->pos += n;
    }
    return 0;
}

static int scan_digits(scanner *sc)
{
    size_t start = sc->pos;
    while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
        sc->pos++;
    return sc->pos > start;
}

static int scan_number(scanner *sc)
{
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos >= sc->len)
        return 0;
    if (sc->s[sc->pos] == '0')
        sc->pos++;
    else if (!scan_digits(sc))
        return 0;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!scan_digits(sc))
            return 0;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len &&
            (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!scan_digits(sc))
            return 0;
    }
    return 1;
}

static int scan_literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return 0;
    sc->pos += n;
    return 1;
}

static json_kind scan_value(scanner *sc, int depth);

/* Scans the members or elements of a container after its opening bracket. */
static int scan_container(scanner *sc, int depth, int is_object)
{
    char close = is_object ? '}' : ']';
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return 1;
    }
    for (;;) {
        if (is_object) {
            skip_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"' || !scan_string(sc))
                return 0;
            skip_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
                return 0;
            sc->pos++;
        }
        if (scan_value(sc, depth + 1) == JSON_KIND_INVALID)
            return 0;
        skip_ws(sc);
        if (sc->pos >= sc->len)
            return 0;
        char c = sc->s[sc->pos++];
        if (c == close)
            return 1;
        if (c != ',')
            return 0;
    }
}

static json_kind scan_value(scanner *sc, int depth)
{
    if (depth > JSON_SPAN_MAX_DEPTH)
        return JSON_KIND_INVALID;
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return JSON_KIND_INVALID;
    switch (sc->s[sc->pos]) {
    case '{':
        return scan_container(sc, depth, 1) ? JSON_KIND_OBJECT
                                            : JSON_KIND_INVALID;
    case '[':
        return scan_container(sc, depth, 0) ? JSON_KIND_ARRAY
                                            : JSON_KIND_INVALID;
    case '"':
        return scan_string(sc) ? JSON_KIND_STRING : JSON_KIND_INVALID;
    case 't':
        return scan_literal(sc, "true") ? JSON_KIND_TRUE : JSON_KIND_INVALID;
    case 'f':
        return scan_literal(sc, "false") ? JSON_KIND_FALSE : JSON_KIND_INVALID;
    case 'n':
        return scan_literal(sc, "null") ? JSON_KIND_NULL : JSON_KIND_INVALID;
    default:
        return scan_number(sc) ? JSON_KIND_NUMBER : JSON_KIND_INVALID;
    }
}

json_kind json_span_value(const char *s, size_t len, size_t *pos,
                          json_span *out)
{
    scanner sc = {s, len, *pos};
    skip_ws(&sc);
    size_t start = sc.pos;
    json_kind k = scan_value(&sc, 0);
    if (k == JSON_KIND_INVALID)
        return k;
    out->p = s + start;
    out->len = sc.pos - start;
    *pos = sc.pos;
    return k;
}

json_kind json_span_kind(json_span v)
{
    if (v.len == 0)
        return JSON_KIND_INVALID;
    switch (v.p[0]) {
    case '{':
        return JSON_KIND_OBJECT;
    case '[':
        return JSON_KIND_ARRAY;
    case '"':
        return JSON_KIND_STRING;
    case 't':
        return JSON_KIND_TRUE;
    case 'f':
        return JSON_KIND_FALSE;
    case 'n':
        return JSON_KIND_NULL;
    default:
        return JSON_KIND_NUMBER;
    }
}

int json_span_whole(const char *s, size_t len, json_span *out)
{
    size_t pos = 0;
    if (json_span_value(s, len, &pos, out) == JSON_KIND_INVALID)
        return 0;
    scanner sc = {s, len, pos};
    skip_ws(&sc);
    return sc.pos == len;
}

/* Shared walk over a validated container: the scanner cannot fail here, so
 * the checks only guard against misuse on a span that was not validated. */
static int container_next(json_span c, size_t *pos, json_span *key,
                          json_span *val)
{
    scanner sc = {c.p, c.len, *pos ? *pos : 1};
    skip_ws(&sc);
    if (sc.pos >= sc.len || sc.s[sc.pos] == ']' || sc.s[sc.pos] == '}')
        return 0;
    if (sc.s[sc.pos] == ',') {
        sc.pos++;
        skip_ws(&sc);
    }
    if (key) {
        size_t kstart = sc.pos;
        if (sc.pos >= sc.len || sc.s[sc.pos] != '"' || !scan_string(&sc))
            return 0;
        key->p = sc.s + kstart;
        key->len = sc.pos - kstart;
        skip_ws(&sc);
        if (sc.pos >= sc.len || sc.s[sc.pos] != ':')
            return 0;
        sc.pos++;
    }
    size_t vpos = sc.pos;
    if (json_span_value(sc.s, sc.len, &vpos, val) == JSON_KIND_INVALID)
        return 0;
    *pos = vpos;
    return 1;
}

int json_span_array_next(json_span arr, size_t *pos, json_span *out)
{
    if (json_span_kind(arr) != JSON_KIND_ARRAY)
        return 0;
    return container_next(arr, pos, NULL, out);
}

int json_span_object_next(json_span obj, size_t *pos, json_span *key,
                          json_span *val)
{
    if (json_span_kind(obj) != JSON_KIND_OBJECT)
        return 0;
    return container_next(obj, pos, key, val);
}

int json_span_key_is(json_span key, const char *name)
{
    size_t n = strlen(name);
    return key.len == n + 2 && memcmp(key.p + 1, name, n) == 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(buf *out, unsigned cp)
{
    char b[4];
    if (cp < 0x80) {
        b[0] = (char)cp;
        buf_append(out, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        buf_append(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        buf_append(out, b, 3);
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        buf_append(out, b, 4);
    }
}

/* One escape at p (after the backslash); returns bytes consumed or 0. */
static size_t unescape(const char *p, size_t avail, buf *out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = avail ? memchr(from, p[0], sizeof(from) - 1) : NULL;
    if (k) {
        buf_append_char(out, to[k - from]);
        return 1;
    }
    unsigned cp, lo;
    if (avail < 5 || p[0] != 'u' || hex4(p + 1, &cp))
        return 0;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return 0;
    if (cp < 0xd800 || cp > 0xdbff) {
        put_utf8(out, cp);
        return 5;
    }
    if (avail < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, &lo) ||
        lo < 0xdc00 || lo > 0xdfff)
        return 0;
    put_utf8(out, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
    return 11;
}

int json_span_string(json_span v, buf *out)
{
    if (json_span_kind(v) != JSON_KIND_STRING || v.len < 2)
        return -1;
    const char *p = v.p + 1, *end = v.p + v.len - 1;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            buf_append(out, p, (size_t)(end - p));
            break;
        }
        buf_append(out, p, (size_t)(bs - p));
        size_t n = unescape(bs + 1, (size_t)(end - bs - 1), out);
        if (n == 0)
            return -1;
        p = bs + 1 + n;
    }
    if (!out->data)
        buf_reserve(out, 0);
    return 0;
}

int json_span_number(json_span v, double *out)
{
    char tmp[64];
    if (json_span_kind(v) != JSON_KIND_NUMBER)
        return -1;
    if (v.len >= sizeof(tmp)) {
        /* Longer than any double needs: let strtod see it all. */
        char *big = xstrndup(v.p, v.len);
        *out = strtod(big, NULL);
        free(big);
        return 0;
    }
    memcpy(tmp, v.p, v.len);
    tmp[v.len] = '\0';
    *out = strtod(tmp, NULL);
    return 0;
}
