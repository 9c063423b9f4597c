/* svg_path: a recursive-descent reader of the path grammar (SVG 1.1,
 * 8.3.9) that keeps the current point, the subpath start and the last
 * control point (for S and T), and emits points into the ring being built.
 * Arcs use the endpoint-to-center conversion of the SVG implementation
 * notes (F.6.5). */
#include "svg_path.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const svg_matrix svg_matrix_identity = {1, 0, 0, 1, 0, 0};

typedef struct reader {
    const char *s;
    size_t len, pos;
    const svg_matrix *m;
    outline *out;
    outline_point *ring; /* points of the subpath being read */
    size_t n, cap;
    double cx, cy; /* current point */
    double sx, sy; /* subpath start */
    double qx, qy; /* last control point, for S and T */
    char last;     /* previous command, upper case */
    size_t total;  /* points emitted, all subpaths */
} reader;

static void skip_sep(reader *r)
{
    while (r->pos < r->len &&
           (isspace((unsigned char)r->s[r->pos]) || r->s[r->pos] == ','))
        r->pos++;
}

/* SVG numbers: sign, digits, one dot, exponent; the next number may start
 * right after ("1.5.5" is 1.5 and .5). */
static int number(reader *r, double *out)
{
    skip_sep(r);
    size_t p = r->pos, start = p;
    if (p < r->len && (r->s[p] == '+' || r->s[p] == '-'))
        p++;
    size_t digits = 0;
    while (p < r->len && isdigit((unsigned char)r->s[p]))
        p++, digits++;
    if (p < r->len && r->s[p] == '.') {
        p++;
        while (p < r->len && isdigit((unsigned char)r->s[p]))
            p++, digits++;
    }
    if (digits == 0)
        return 0;
    if (p < r->len && (r->s[p] == 'e' || r->s[p] == 'E')) {
        size_t q = p + 1;
        if (q < r->len && (r->s[q] == '+' || r->s[q] == '-'))
            q++;
        if (q < r->len && isdigit((unsigned char)r->s[q])) {
            while (q < r->len && isdigit((unsigned char)r->s[q]))
                q++;
            p = q;
        }
    }
    char tmp[64];
    if (p - start >= sizeof(tmp))
        return 0;
    memcpy(tmp, r->s + start, p - start);
    tmp[p - start] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return 0;
    *out = v;
    r->pos = p;
    return 1;
}

/* Arc flags are one character, "0" or "1", with or without separators. */
static int flag(reader *r, int *out)
{
    skip_sep(r);
    if (r->pos < r->len && (r->s[r->pos] == '0' || r->s[r->pos] == '1')) {
        *out = r->s[r->pos++] == '1';
        return 1;
    }
    return 0;
}

static void emit(reader *r, double x, double y)
{
    /* Past the limit points are dropped; svg_path_parse() then fails. */
    if (++r->total > SVG_PATH_MAX_POINTS)
        return;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        r->ring = xrealloc(r->ring, r->cap * sizeof(outline_point));
    }
    const svg_matrix *m = r->m;
    r->ring[r->n].x = m->a * x + m->c * y + m->e;
    r->ring[r->n].y = m->b * x + m->d * y + m->f;
    r->n++;
}

static void end_subpath(reader *r)
{
    if (r->n >= 2)
        outline_add_ring(r->out, r->ring, r->n);
    r->n = 0;
}

static int segments(double extent)
{
    double n = ceil(sqrt(extent / SVG_PATH_TOLERANCE));
    if (!(n >= 1))
        return 1;
    return n > SVG_PATH_MAX_SEGMENTS ? SVG_PATH_MAX_SEGMENTS : (int)n;
}

static void cubic(reader *r, double x1, double y1, double x2, double y2,
                  double x, double y)
{
    double x0 = r->cx, y0 = r->cy;
    double d1 = hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2);
    double d2 = hypot(x1 - 2 * x2 + x, y1 - 2 * y2 + y);
    /* Uniform steps keep within 3/4 max(second differences) / n^2. */
    int n = segments(0.75 * fmax(d1, d2));
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        emit(r,
             u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 +
                 t * t * t * x,
             u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 +
                 t * t * t * y);
    }
    r->qx = x2;
    r->qy = y2;
    r->cx = x;
    r->cy = y;
}

static void quad(reader *r, double x1, double y1, double x, double y)
{
    double x0 = r->cx, y0 = r->cy;
    int n = segments(hypot(x0 - 2 * x1 + x, y0 - 2 * y1 + y) / 4);
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        emit(r, u * u * x0 + 2 * u * t * x1 + t * t * x,
             u * u * y0 + 2 * u * t * y1 + t * t * y);
    }
    r->qx = x1;
    r->qy = y1;
    r->cx = x;
    r->cy = y;
}

static double angle(double ux, double uy, double vx, double vy)
{
    double a = atan2(ux * vy - uy * vx, ux * vx + uy * vy);
    return a;
}

static void arc(reader *r, double rx, double ry, double phi_deg, int large,
                int sweep, double x, double y)
{
    double x1 = r->cx, y1 = r->cy;
    rx = fabs(rx);
    ry = fabs(ry);
    if ((x1 == x && y1 == y)) {
        return;
    }
    if (rx == 0 || ry == 0) {
        emit(r, x, y);
        r->cx = x;
        r->cy = y;
        return;
    }
    double phi = phi_deg * M_PI / 180, cp = cos(phi), sp = sin(phi);
    double dx = (x1 - x) / 2, dy = (y1 - y) / 2;
    double x1p = cp * dx + sp * dy, y1p = -sp * dx + cp * dy;
    double lambda = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry);
    if (lambda > 1) {
        rx *= sqrt(lambda);
        ry *= sqrt(lambda);
    }
    double num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p;
    double den = rx * rx * y1p * y1p + ry * ry * x1p * x1p;
    double coef = den > 0 && num > 0 ? sqrt(num / den) : 0;
    if (large == sweep)
        coef = -coef;
    double cxp = coef * rx * y1p / ry, cyp = -coef * ry * x1p / rx;
    double ccx = cp * cxp - sp * cyp + (x1 + x) / 2;
    double ccy = sp * cxp + cp * cyp + (y1 + y) / 2;
    double th1 = angle(1, 0, (x1p - cxp) / rx, (y1p - cyp) / ry);
    double dth = angle((x1p - cxp) / rx, (y1p - cyp) / ry, (-x1p - cxp) / rx,
                       (-y1p - cyp) / ry);
    if (!sweep && dth > 0)
        dth -= 2 * M_PI;
    else if (sweep && dth < 0)
        dth += 2 * M_PI;
    double rmax = fmax(rx, ry);
    double step = rmax > SVG_PATH_TOLERANCE
                      ? 2 * acos(1 - SVG_PATH_TOLERANCE / rmax)
                      : M_PI / 2;
    /* A huge radius makes the step 0 (the count infinite): clamp in
     * floating point before converting. */
    double segs = ceil(fabs(dth) / step);
    int n = !(segs < SVG_PATH_MAX_SEGMENTS) ? SVG_PATH_MAX_SEGMENTS
            : segs < 1                      ? 1
                                            : (int)segs;
    for (int i = 1; i <= n; i++) {
        double t = th1 + dth * i / n;
        double ex = rx * cos(t), ey = ry * sin(t);
        emit(r, cp * ex - sp * ey + ccx, sp * ex + cp * ey + ccy);
    }
    r->cx = x;
    r->cy = y;
}

static int fail(reader *r, buf *err, char cmd, const char *what)
{
    buf_printf(err, "byte %zu: %s after '%c'", r->pos, what, cmd);
    return -1;
}

/* Reads n numbers; 0 if the first is missing (end of repeats), -1 if a
 * later one is. */
static int numbers(reader *r, double *v, int n)
{
    if (!number(r, &v[0]))
        return 0;
    for (int i = 1; i < n; i++)
        if (!number(r, &v[i]))
            return -1;
    return 1;
}

/* One command letter and all its (implicitly repeated) argument sets. */
static int command(reader *r, char c, buf *err)
{
    int rel = islower((unsigned char)c);
    char C = (char)toupper((unsigned char)c);
    if (C == 'Z') {
        r->cx = r->sx;
        r->cy = r->sy;
        end_subpath(r);
        r->last = 'Z';
        return 0;
    }
    static const char *const arity = "M2L2H1V1C6S4Q4T2A7";
    const char *a = strchr(arity, C);
    if (!a || !isalpha((unsigned char)C))
        return fail(r, err, c, "unknown path command");
    int n = a[1] - '0', count = 0;
    for (;;) {
        double v[7];
        int rc;
        if (C == 'A') {
            int fl = 0, sw = 0;
            rc = numbers(r, v, 3);
            if (rc == 1 && (!flag(r, &fl) || !flag(r, &sw) ||
                            !number(r, &v[5]) || !number(r, &v[6])))
                rc = -1;
            v[3] = fl;
            v[4] = sw;
        } else {
            rc = numbers(r, v, n);
        }
        if (rc < 0)
            return fail(r, err, c, "expected a number");
        if (rc == 0) {
            if (count == 0)
                return fail(r, err, c, "expected a number");
            return 0;
        }
        double ox = rel ? r->cx : 0, oy = rel ? r->cy : 0;
        switch (C) {
        case 'M':
            if (count == 0) {
                end_subpath(r);
                r->cx = r->sx = v[0] + ox;
                r->cy = r->sy = v[1] + oy;
                emit(r, r->cx, r->cy);
                break;
            }
            /* repeated pairs after M are L */
            __attribute__((fallthrough));
        case 'L':
            r->cx = v[0] + ox;
            r->cy = v[1] + oy;
            emit(r, r->cx, r->cy);
            break;
        case 'H':
            r->cx = v[0] + ox;
            emit(r, r->cx, r->cy);
            break;
        case 'V':
            r->cy = v[0] + oy;
            emit(r, r->cx, r->cy);
            break;
        case 'C':
            cubic(r, v[0] + ox, v[1] + oy, v[2] + ox, v[3] + oy, v[4] + ox,
                  v[5] + oy);
            break;
        case 'S': {
            int smooth = r->last == 'C' || r->last == 'S';
            double x1 = smooth ? 2 * r->cx - r->qx : r->cx;
            double y1 = smooth ? 2 * r->cy - r->qy : r->cy;
            cubic(r, x1, y1, v[0] + ox, v[1] + oy, v[2] + ox, v[3] + oy);
            break;
        }
        case 'Q':
            quad(r, v[0] + ox, v[1] + oy, v[2] + ox, v[3] + oy);
            break;
        case 'T': {
            int smooth = r->last == 'Q' || r->last == 'T';
            double x1 = smooth ? 2 * r->cx - r->qx : r->cx;
            double y1 = smooth ? 2 * r->cy - r->qy : r->cy;
            quad(r, x1, y1, v[0] + ox, v[1] + oy);
            break;
        }
        case 'A':
            arc(r, v[0], v[1], v[2], (int)v[3], (int)v[4], v[5] + ox,
                v[6] + oy);
            break;
        }
        r->last = C == 'M' && count > 0 ? 'L' : C;
        count++;
    }
}

int svg_path_parse(const char *d, size_t len, const svg_matrix *m, outline *out,
                   buf *err)
{
    reader r = {0};
    r.s = d;
    r.len = len;
    r.m = m ? m : &svg_matrix_identity;
    r.out = out;
    int rc = 0;
    skip_sep(&r);
    if (r.pos < r.len && toupper((unsigned char)r.s[r.pos]) != 'M') {
        buf_printf(err, "byte %zu: a path must start with 'M'", r.pos);
        rc = -1;
    }
    while (rc == 0) {
        skip_sep(&r);
        if (r.pos >= r.len)
            break;
        char c = r.s[r.pos++];
        if (!isalpha((unsigned char)c)) {
            buf_printf(err, "byte %zu: expected a path command, got '%c'",
                       r.pos - 1, c);
            rc = -1;
            break;
        }
        rc = command(&r, c, err);
    }
    if (rc == 0 && r.total > SVG_PATH_MAX_POINTS) {
        buf_printf(err, "path flattens to more than %d points",
                   SVG_PATH_MAX_POINTS);
        rc = -1;
    }
    if (rc == 0)
        end_subpath(&r);
    free(r.ring);
    return rc;
}
