/* svg_transform: "translate(10,20) rotate(45 5 5)" means: rotate about
 * (5, 5), then translate; the list is read left to right and each matrix
 * multiplied on the right, which gives exactly that order. */
#include "svg_transform.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* More arguments than any transform function takes. */
#define TRANSFORM_MAX_ARGS 6

svg_matrix svg_matrix_multiply(const svg_matrix *a, const svg_matrix *b)
{
    svg_matrix r = {
        a->a * b->a + a->c * b->b,        a->b * b->a + a->d * b->b,
        a->a * b->c + a->c * b->d,        a->b * b->c + a->d * b->d,
        a->a * b->e + a->c * b->f + a->e, a->b * b->e + a->d * b->f + a->f,
    };
    return r;
}

static size_t skip_ws(const char *s, size_t len, size_t p)
{
    while (p < len && (isspace((unsigned char)s[p]) || s[p] == ','))
        p++;
    return p;
}

/* Reads up to TRANSFORM_MAX_ARGS numbers until ')'; returns the count or
 * -1. */
static int read_args(const char *s, size_t len, size_t *pos, double *v)
{
    int n = 0;
    size_t p = *pos;
    for (;;) {
        p = skip_ws(s, len, p);
        if (p < len && s[p] == ')') {
            *pos = p + 1;
            return n;
        }
        if (n == TRANSFORM_MAX_ARGS || p >= len)
            return -1;
        char tmp[64];
        size_t k = 0;
        while (p < len && k < sizeof(tmp) - 1 &&
               (isdigit((unsigned char)s[p]) || strchr("+-.eE", s[p])))
            tmp[k++] = s[p++];
        tmp[k] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (k == 0 || *end || !isfinite(d))
            return -1;
        v[n++] = d;
    }
}

static int build(const char *name, size_t nlen, const double *v, int n,
                 svg_matrix *m)
{
    double rad;
#define IS(w) (nlen == strlen(w) && memcmp(name, w, nlen) == 0)
    if (IS("matrix") && n == 6) {
        *m = (svg_matrix){v[0], v[1], v[2], v[3], v[4], v[5]};
    } else if (IS("translate") && (n == 1 || n == 2)) {
        *m = (svg_matrix){1, 0, 0, 1, v[0], n == 2 ? v[1] : 0};
    } else if (IS("scale") && (n == 1 || n == 2)) {
        *m = (svg_matrix){v[0], 0, 0, n == 2 ? v[1] : v[0], 0, 0};
    } else if (IS("rotate") && (n == 1 || n == 3)) {
        rad = v[0] * M_PI / 180;
        svg_matrix r = {cos(rad), sin(rad), -sin(rad), cos(rad), 0, 0};
        if (n == 3) {
            svg_matrix to = {1, 0, 0, 1, v[1], v[2]};
            svg_matrix back = {1, 0, 0, 1, -v[1], -v[2]};
            svg_matrix t = svg_matrix_multiply(&to, &r);
            r = svg_matrix_multiply(&t, &back);
        }
        *m = r;
    } else if (IS("skewX") && n == 1) {
        *m = (svg_matrix){1, 0, tan(v[0] * M_PI / 180), 1, 0, 0};
    } else if (IS("skewY") && n == 1) {
        *m = (svg_matrix){1, tan(v[0] * M_PI / 180), 0, 1, 0, 0};
    } else {
        return -1;
    }
#undef IS
    return 0;
}

int svg_transform_parse(const char *s, size_t len, svg_matrix *out, buf *err)
{
    svg_matrix acc = svg_matrix_identity;
    size_t p = skip_ws(s, len, 0);
    while (p < len) {
        size_t start = p;
        while (p < len && isalpha((unsigned char)s[p]))
            p++;
        size_t nlen = p - start;
        p = skip_ws(s, len, p);
        double v[TRANSFORM_MAX_ARGS];
        int n = -1;
        if (nlen && p < len && s[p] == '(') {
            p++;
            n = read_args(s, len, &p, v);
        }
        svg_matrix m;
        if (n < 0 || build(s + start, nlen, v, n, &m) != 0) {
            buf_printf(err, "byte %zu: invalid transform '%.*s'", start,
                       (int)(nlen > 20 ? 20 : nlen), s + start);
            return -1;
        }
        acc = svg_matrix_multiply(&acc, &m);
        p = skip_ws(s, len, p);
    }
    *out = acc;
    return 0;
}
