/* xml_scan: the reader works on markup only. Between tags it looks for the
 * next '<' and decides from the following characters what construct
 * starts there; constructs that carry no geometry (comments, CDATA,
 * processing instructions, the DOCTYPE with its internal subset) are
 * skipped whole, so a '<' inside them never looks like a tag. */
#include "xml_scan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void xml_scan_init(xml_scan *x, const char *s, size_t len)
{
    memset(x, 0, sizeof(*x));
    x->s = s;
    x->len = len;
    buf_init(&x->err);
}

void xml_scan_free(xml_scan *x)
{
    buf_free(&x->err);
}

void xml_scan_where(const xml_scan *x, size_t pos, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    for (size_t i = 0; i < pos && i < x->len; i++) {
        if (x->s[i] == '\n')
            l++, c = 1;
        else
            c++;
    }
    *line = l;
    *col = c;
}

__attribute__((format(printf, 3, 4))) static xml_scan_token
fail(xml_scan *x, size_t pos, const char *fmt, ...)
{
    size_t line, col;
    xml_scan_where(x, pos, &line, &col);
    buf_reset(&x->err);
    buf_printf(&x->err, "line %zu, column %zu: ", line, col);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&x->err, fmt, ap);
    va_end(ap);
    x->pos = x->len;
    return XML_SCAN_ERROR;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Names: ASCII letters, digits and "_:.-", plus any byte >= 0x80 so UTF-8
 * names pass without a Unicode table. */
static int is_name_char(char c, int first)
{
    unsigned char u = (unsigned char)c;
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' ||
        u == ':' || u >= 0x80)
        return 1;
    return !first && ((u >= '0' && u <= '9') || u == '.' || u == '-');
}

static size_t skip_space(const xml_scan *x, size_t p)
{
    while (p < x->len && is_space(x->s[p]))
        p++;
    return p;
}

static int starts(const xml_scan *x, size_t p, const char *lit)
{
    size_t n = strlen(lit);
    return p + n <= x->len && memcmp(x->s + p, lit, n) == 0;
}

/* Position just past the next occurrence of lit at or after p, or 0. */
static size_t past(const xml_scan *x, size_t p, const char *lit)
{
    size_t n = strlen(lit);
    for (; p + n <= x->len; p++)
        if (memcmp(x->s + p, lit, n) == 0)
            return p + n;
    return 0;
}

static int read_name(xml_scan *x, size_t *p, xml_scan_str *out)
{
    size_t q = *p;
    if (q >= x->len || !is_name_char(x->s[q], 1))
        return -1;
    while (q < x->len && is_name_char(x->s[q], 0))
        q++;
    out->p = x->s + *p;
    out->len = q - *p;
    *p = q;
    return 0;
}

/* The DOCTYPE may hold an internal subset in brackets, whose declarations
 * contain '>' inside quoted strings. */
static size_t skip_doctype(const xml_scan *x, size_t p)
{
    int bracket = 0;
    char quote = 0;
    for (; p < x->len; p++) {
        char c = x->s[p];
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '[') {
            bracket = 1;
        } else if (c == ']') {
            bracket = 0;
        } else if (c == '>' && !bracket) {
            return p + 1;
        }
    }
    return 0;
}

/* Skips one construct that is not an element at *p (which is at '<').
 * Returns 1 with *p past it, 0 if an element tag starts here, or -1 if the
 * construct never ends. */
static int skip_misc(xml_scan *x, size_t *p)
{
    size_t q = *p, after;
    if (starts(x, q, "<!--"))
        after = past(x, q + 4, "-->");
    else if (starts(x, q, "<![CDATA["))
        after = past(x, q + 9, "]]>");
    else if (starts(x, q, "<?"))
        after = past(x, q + 2, "?>");
    else if (starts(x, q, "<!DOCTYPE"))
        after = skip_doctype(x, q + 9);
    else if (starts(x, q, "<!"))
        after = 0;
    else
        return 0;
    if (after == 0)
        return -1;
    *p = after;
    return 1;
}

static xml_scan_token read_attrs(xml_scan *x, size_t p)
{
    x->nattrs = 0;
    for (;;) {
        size_t q = skip_space(x, p);
        if (q >= x->len)
            return fail(x, q, "unterminated tag <%.*s>", (int)x->name.len,
                        x->name.p);
        if (x->s[q] == '>' ||
            (x->s[q] == '/' && q + 1 < x->len && x->s[q + 1] == '>')) {
            x->pending_end = x->s[q] == '/';
            x->pos = q + (x->pending_end ? 2 : 1);
            return XML_SCAN_START;
        }
        if (q == p)
            return fail(x, q, "expected a space before the attribute");
        xml_scan_attr a;
        if (read_name(x, &q, &a.name) < 0)
            return fail(x, q, "expected an attribute name in <%.*s>",
                        (int)x->name.len, x->name.p);
        q = skip_space(x, q);
        if (q >= x->len || x->s[q] != '=')
            return fail(x, q, "expected '=' after attribute '%.*s'",
                        (int)a.name.len, a.name.p);
        q = skip_space(x, q + 1);
        if (q >= x->len || (x->s[q] != '"' && x->s[q] != '\''))
            return fail(x, q, "expected a quoted value for '%.*s'",
                        (int)a.name.len, a.name.p);
        const char *end = memchr(x->s + q + 1, x->s[q], x->len - q - 1);
        if (!end)
            return fail(x, q, "unterminated value of '%.*s'", (int)a.name.len,
                        a.name.p);
        a.raw.p = x->s + q + 1;
        a.raw.len = (size_t)(end - a.raw.p);
        if (memchr(a.raw.p, '<', a.raw.len))
            return fail(x, q, "'<' in the value of '%.*s'", (int)a.name.len,
                        a.name.p);
        for (size_t i = 0; i < x->nattrs; i++)
            if (x->attrs[i].name.len == a.name.len &&
                memcmp(x->attrs[i].name.p, a.name.p, a.name.len) == 0)
                return fail(x, q, "attribute '%.*s' repeated", (int)a.name.len,
                            a.name.p);
        if (x->nattrs == XML_SCAN_MAX_ATTRS)
            return fail(x, q, "more than %d attributes", XML_SCAN_MAX_ATTRS);
        x->attrs[x->nattrs++] = a;
        p = (size_t)(end - x->s) + 1;
    }
}

static xml_scan_token read_end_tag(xml_scan *x, size_t p)
{
    size_t q = p + 2;
    xml_scan_str name;
    if (read_name(x, &q, &name) < 0)
        return fail(x, q, "expected an element name after '</'");
    q = skip_space(x, q);
    if (q >= x->len || x->s[q] != '>')
        return fail(x, q, "expected '>' to end </%.*s", (int)name.len, name.p);
    if (x->depth == 0)
        return fail(x, p, "</%.*s> closes nothing", (int)name.len, name.p);
    xml_scan_str open = x->open[x->depth - 1];
    if (open.len != name.len || memcmp(open.p, name.p, name.len) != 0)
        return fail(x, p, "</%.*s> does not match <%.*s>", (int)name.len,
                    name.p, (int)open.len, open.p);
    x->depth--;
    x->name = name;
    x->nattrs = 0;
    x->pos = q + 1;
    return XML_SCAN_END;
}

static xml_scan_token read_start_tag(xml_scan *x, size_t p)
{
    size_t q = p + 1;
    if (x->seen_root && x->depth == 0)
        return fail(x, p, "a second root element");
    if (read_name(x, &q, &x->name) < 0)
        return fail(x, q, "expected an element name after '<'");
    if (x->depth == XML_SCAN_MAX_DEPTH)
        return fail(x, p, "elements nested deeper than %d", XML_SCAN_MAX_DEPTH);
    xml_scan_token t = read_attrs(x, q);
    if (t != XML_SCAN_START)
        return t;
    x->seen_root = 1;
    x->open[x->depth++] = x->name;
    return XML_SCAN_START;
}

xml_scan_token xml_scan_next(xml_scan *x)
{
    if (x->pending_end) {
        x->pending_end = 0;
        x->depth--;
        x->nattrs = 0;
        return XML_SCAN_END;
    }
    size_t p = x->pos;
    for (;;) {
        const char *lt = p < x->len ? memchr(x->s + p, '<', x->len - p) : NULL;
        if (!lt) {
            if (x->depth > 0)
                return fail(x, x->len, "<%.*s> is never closed",
                            (int)x->open[x->depth - 1].len,
                            x->open[x->depth - 1].p);
            if (!x->seen_root)
                return fail(x, x->len, "no root element");
            x->pos = x->len;
            return XML_SCAN_EOF;
        }
        p = (size_t)(lt - x->s);
        int misc = skip_misc(x, &p);
        if (misc < 0)
            return fail(x, p,
                        "unterminated comment, CDATA, DOCTYPE or "
                        "processing instruction");
        if (misc > 0)
            continue;
        if (p + 1 < x->len && x->s[p + 1] == '/')
            return read_end_tag(x, p);
        return read_start_tag(x, p);
    }
}

const xml_scan_attr *xml_scan_attr_get(const xml_scan *x, const char *name)
{
    for (size_t i = 0; i < x->nattrs; i++)
        if (xml_scan_str_is(x->attrs[i].name, name))
            return &x->attrs[i];
    return NULL;
}

int xml_scan_str_is(xml_scan_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

xml_scan_str xml_scan_local_name(xml_scan_str name)
{
    const char *colon = memchr(name.p, ':', name.len);
    if (!colon)
        return name;
    xml_scan_str local = {colon + 1, name.len - (size_t)(colon + 1 - name.p)};
    return local;
}

/* Appends code point cp as UTF-8; returns -1 for values XML forbids. */
static int append_utf8(buf *out, unsigned long cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    buf_append(out, u, n);
    return 0;
}

static int decode_entity(const char *e, size_t n, buf *out)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(e, named[i].name, n) == 0) {
            buf_append_char(out, named[i].c);
            return 0;
        }
    if (n < 2 || e[0] != '#')
        return -1;
    int hex = e[1] == 'x';
    size_t i = hex ? 2 : 1;
    if (i == n || n - i > 8)
        return -1;
    unsigned long cp = 0;
    for (; i < n; i++) {
        char c = e[i];
        int d = c >= '0' && c <= '9'          ? c - '0'
                : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                              : -1;
        if (d < 0)
            return -1;
        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    }
    return append_utf8(out, cp);
}

int xml_scan_decode(xml_scan_str raw, buf *out)
{
    buf_reset(out);
    buf_reserve(out, raw.len);
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.p[i] != '&') {
            buf_append_char(out, raw.p[i]);
            continue;
        }
        const char *semi = memchr(raw.p + i, ';', raw.len - i);
        if (!semi ||
            decode_entity(raw.p + i + 1, (size_t)(semi - raw.p - i - 1), out))
            return -1;
        i = (size_t)(semi - raw.p);
    }
    return 0;
}
