/* svg_wall: one pass over the document with a stack of the transforms in
 * force. Every shape is turned into path data first (circles and
 * rectangles into arcs and lines, polygons into "M x y x y ... Z", whose
 * implicit repeats are line-tos), so one path reader flattens everything
 * and the same `d` is what the live output sends to the wall's screen. */
#include "svg_wall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "svg_path.h"
#include "svg_transform.h"
#include "xml_scan.h"

/* Pixels per unit as CSS defines them (96 px to the inch). */
static const struct {
    const char *unit;
    double px;
} units[] = {{"", 1},           {"px", 1},          {"in", 96},
             {"cm", 96 / 2.54}, {"mm", 9.6 / 2.54}, {"Q", 2.4 / 2.54},
             {"pt", 96 / 72.0}, {"pc", 16}};

typedef struct wall_reader {
    xml_scan x;
    svg_wall *w;
    buf *err;
    buf value;                            /* decoded attribute value, scratch */
    buf d;                                /* path data being built, scratch */
    svg_matrix m[XML_SCAN_MAX_DEPTH + 1]; /* m[depth]: in force inside */
    size_t skip_depth; /* > 0: inside defs and the like, at that depth */
    unsigned char *hold_class; /* per hold: has class "hold" */
    size_t *hold_pos;          /* per hold: where its element starts */
    size_t cap;
    size_t points;
    int any_hold_class;
} wall_reader;

static void where(wall_reader *r, buf *out)
{
    size_t line, col;
    /* The element's name follows its '<'. */
    xml_scan_where(&r->x, (size_t)(r->x.name.p - r->x.s) - 1, &line, &col);
    buf_printf(out, "line %zu, column %zu: ", line, col);
}

/* A number with an optional unit, converted to user units (px). */
static int parse_length(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v))
        return -1;
    while (*end == ' ')
        end++;
    size_t n = strlen(end);
    while (n > 0 && end[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].unit) == n && memcmp(end, units[i].unit, n) == 0) {
            *out = v * units[i].px;
            return 0;
        }
    return -1;
}

/* The decoded value of attribute name, or NULL if absent; -1 in *bad on
 * a malformed entity. */
static const char *attr(wall_reader *r, const char *name, int *bad)
{
    const xml_scan_attr *a = xml_scan_attr_get(&r->x, name);
    if (!a)
        return NULL;
    if (xml_scan_decode(a->raw, &r->value) < 0) {
        *bad = 1;
        return NULL;
    }
    return r->value.data ? r->value.data : "";
}

static int attr_length(wall_reader *r, const char *name, double dflt,
                       double *out)
{
    int bad = 0;
    const char *v = attr(r, name, &bad);
    if (bad || (v && parse_length(v, out) < 0)) {
        where(r, r->err);
        buf_printf(r->err, "<%.*s>: bad %s", (int)r->x.name.len, r->x.name.p,
                   name);
        return -1;
    }
    if (!v)
        *out = dflt;
    return 0;
}

static int parse_view_box(const char *s, double v[4])
{
    char *end;
    for (int i = 0; i < 4; i++) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
            s++;
        v[i] = strtod(s, &end);
        if (end == s || !isfinite(v[i]))
            return -1;
        s = end;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    return *s || v[2] <= 0 || v[3] <= 0 ? -1 : 0;
}

/* The root's viewBox, else width and height, set the box normalized wall
 * coordinates span. */
static int read_root_size(wall_reader *r)
{
    int bad = 0;
    const char *vb = attr(r, "viewBox", &bad);
    if (vb) {
        double v[4];
        if (parse_view_box(vb, v) < 0) {
            where(r, r->err);
            buf_printf(r->err, "<svg>: bad viewBox \"%s\"", vb);
            return -1;
        }
        r->w->x = v[0], r->w->y = v[1], r->w->width = v[2];
        r->w->height = v[3];
        return 0;
    }
    if (attr_length(r, "width", 0, &r->w->width) < 0 ||
        attr_length(r, "height", 0, &r->w->height) < 0)
        return -1;
    if (r->w->width <= 0 || r->w->height <= 0) {
        where(r, r->err);
        buf_append_str(r->err, "<svg>: no viewBox and no absolute width and "
                               "height: the wall has no size");
        return -1;
    }
    return 0;
}

static void fmt_num(buf *b, double v)
{
    buf_printf(b, "%.10g", v);
}

static void d_point(buf *b, const char *cmd, double x, double y)
{
    buf_append_str(b, cmd);
    fmt_num(b, x);
    buf_append_char(b, ',');
    fmt_num(b, y);
}

static void d_arc(buf *b, double rx, double ry, int large, double x, double y)
{
    buf_append_str(b, " A ");
    fmt_num(b, rx);
    buf_append_char(b, ',');
    fmt_num(b, ry);
    buf_printf(b, " 0 %d 1 ", large);
    fmt_num(b, x);
    buf_append_char(b, ',');
    fmt_num(b, y);
}

static int ellipse_d(wall_reader *r, int circle)
{
    double cx, cy, rx, ry;
    if (attr_length(r, "cx", 0, &cx) < 0 || attr_length(r, "cy", 0, &cy) < 0)
        return -1;
    if (circle) {
        if (attr_length(r, "r", 0, &rx) < 0)
            return -1;
        ry = rx;
    } else if (attr_length(r, "rx", 0, &rx) < 0 ||
               attr_length(r, "ry", 0, &ry) < 0) {
        return -1;
    }
    if (rx <= 0 || ry <= 0)
        return 1;
    d_point(&r->d, "M ", cx - rx, cy);
    d_arc(&r->d, rx, ry, 1, cx + rx, cy);
    d_arc(&r->d, rx, ry, 1, cx - rx, cy);
    buf_append_str(&r->d, " Z");
    return 0;
}

/* SVG 1.1 9.2: a missing rx or ry takes the other's value; both are
 * clamped to half the side. */
static int rect_d(wall_reader *r)
{
    double x, y, w, h, rx, ry;
    if (attr_length(r, "x", 0, &x) < 0 || attr_length(r, "y", 0, &y) < 0 ||
        attr_length(r, "width", 0, &w) < 0 ||
        attr_length(r, "height", 0, &h) < 0 ||
        attr_length(r, "rx", -1, &rx) < 0 || attr_length(r, "ry", -1, &ry) < 0)
        return -1;
    if (w <= 0 || h <= 0)
        return 1;
    if (rx < 0)
        rx = ry < 0 ? 0 : ry;
    if (ry < 0)
        ry = rx;
    rx = fmin(rx, w / 2), ry = fmin(ry, h / 2);
    d_point(&r->d, "M ", x + rx, y);
    d_point(&r->d, " L ", x + w - rx, y);
    if (rx > 0 && ry > 0)
        d_arc(&r->d, rx, ry, 0, x + w, y + ry);
    d_point(&r->d, " L ", x + w, y + h - ry);
    if (rx > 0 && ry > 0)
        d_arc(&r->d, rx, ry, 0, x + w - rx, y + h);
    d_point(&r->d, " L ", x + rx, y + h);
    if (rx > 0 && ry > 0)
        d_arc(&r->d, rx, ry, 0, x, y + h - ry);
    d_point(&r->d, " L ", x, y + ry);
    if (rx > 0 && ry > 0)
        d_arc(&r->d, rx, ry, 0, x + rx, y);
    buf_append_str(&r->d, " Z");
    return 0;
}

/* Builds the element's path data into r->d. Returns 0, 1 for a shape that
 * draws nothing (zero radius, empty points), -1 on error. */
static int shape_d(wall_reader *r, xml_scan_str name)
{
    buf_reset(&r->d);
    if (xml_scan_str_is(name, "circle") || xml_scan_str_is(name, "ellipse"))
        return ellipse_d(r, xml_scan_str_is(name, "circle"));
    if (xml_scan_str_is(name, "rect"))
        return rect_d(r);
    int bad = 0;
    int path = xml_scan_str_is(name, "path");
    const char *v = attr(r, path ? "d" : "points", &bad);
    if (bad) {
        where(r, r->err);
        buf_printf(r->err, "<%.*s>: bad entity in %s", (int)name.len, name.p,
                   path ? "d" : "points");
        return -1;
    }
    if (!v || !*v)
        return 1;
    if (!path)
        buf_append_str(&r->d, "M ");
    buf_append_str(&r->d, v);
    if (xml_scan_str_is(name, "polygon"))
        buf_append_str(&r->d, " Z");
    return 0;
}

static int is_shape(xml_scan_str name)
{
    static const char *const shapes[] = {"path", "circle",  "ellipse",
                                         "rect", "polygon", "polyline"};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (xml_scan_str_is(name, shapes[i]))
            return 1;
    return 0;
}

/* Containers whose content is never drawn where it stands. */
static int is_hidden_container(xml_scan_str name)
{
    static const char *const hidden[] = {"defs",   "clipPath", "mask",
                                         "symbol", "marker",   "pattern"};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        if (xml_scan_str_is(name, hidden[i]))
            return 1;
    return 0;
}

static int has_class_hold(const char *cls)
{
    if (!cls)
        return 0;
    for (const char *p = cls; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (p - start == 4 && memcmp(start, "hold", 4) == 0)
            return 1;
    }
    return 0;
}

static char *matrix_string(const svg_matrix *m)
{
    if (memcmp(m, &svg_matrix_identity, sizeof(*m)) == 0)
        return NULL;
    buf b;
    buf_init(&b);
    buf_printf(&b, "matrix(%.10g,%.10g,%.10g,%.10g,%.10g,%.10g)", m->a, m->b,
               m->c, m->d, m->e, m->f);
    return buf_detach(&b, NULL);
}

static char *attr_dup(wall_reader *r, const char *name)
{
    int bad = 0;
    const char *v = attr(r, name, &bad);
    return v ? xstrdup(v) : NULL;
}

static int add_hold(wall_reader *r, xml_scan_str name, const char *id)
{
    int st = shape_d(r, name);
    if (st != 0)
        return st < 0 ? -1 : 0;
    svg_hold h;
    memset(&h, 0, sizeof(h));
    outline_init(&h.outline);
    buf perr;
    buf_init(&perr);
    const svg_matrix *m = &r->m[r->x.depth];
    if (svg_path_parse(r->d.data, r->d.len, m, &h.outline, &perr) < 0) {
        where(r, r->err);
        buf_printf(r->err, "<%.*s> '%s': %s: %s", (int)name.len, name.p, id,
                   xml_scan_str_is(name, "path") ? "d" : "shape", perr.data);
        buf_free(&perr);
        outline_free(&h.outline);
        return -1;
    }
    buf_free(&perr);
    for (size_t i = 0; i < h.outline.nrings; i++)
        r->points += h.outline.rings[i].n;
    if (r->points > SVG_WALL_MAX_POINTS) {
        where(r, r->err);
        buf_printf(r->err, "the holds flatten to more than %d points",
                   SVG_WALL_MAX_POINTS);
        outline_free(&h.outline);
        return -1;
    }
    if (h.outline.nrings == 0) {
        outline_free(&h.outline);
        return 0;
    }
    h.id = xstrdup(id);
    h.d = buf_detach(&r->d, NULL);
    h.style = attr_dup(r, "style");
    h.transform = matrix_string(m);
    if (r->w->nholds == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->w->holds = xrealloc(r->w->holds, r->cap * sizeof(svg_hold));
        r->hold_class = xrealloc(r->hold_class, r->cap);
        r->hold_pos = xrealloc(r->hold_pos, r->cap * sizeof(size_t));
    }
    int bad = 0;
    int cls = has_class_hold(attr(r, "class", &bad));
    r->any_hold_class |= cls;
    r->hold_class[r->w->nholds] = (unsigned char)cls;
    r->hold_pos[r->w->nholds] = (size_t)(r->x.name.p - r->x.s) - 1;
    r->w->holds[r->w->nholds++] = h;
    return 0;
}

/* An element opens: its transform composes with its parent's; shapes with
 * an id become holds. */
static int start_element(wall_reader *r)
{
    xml_scan_str name = xml_scan_local_name(r->x.name);
    size_t depth = r->x.depth; /* this element's level, from 1 */
    if (depth == 1) {
        if (!xml_scan_str_is(name, "svg")) {
            where(r, r->err);
            buf_printf(r->err, "the root element is <%.*s>, not <svg>",
                       (int)r->x.name.len, r->x.name.p);
            return -1;
        }
        if (read_root_size(r) < 0)
            return -1;
    }
    r->m[depth] = r->m[depth - 1];
    if (r->skip_depth)
        return 0;
    if (is_hidden_container(name)) {
        r->skip_depth = depth;
        return 0;
    }
    int bad = 0;
    const char *t = attr(r, "transform", &bad);
    if (t) {
        svg_matrix own;
        buf terr;
        buf_init(&terr);
        if (svg_transform_parse(t, strlen(t), &own, &terr) < 0) {
            where(r, r->err);
            buf_printf(r->err, "<%.*s>: transform: %s", (int)r->x.name.len,
                       r->x.name.p, terr.data);
            buf_free(&terr);
            return -1;
        }
        buf_free(&terr);
        r->m[depth] = svg_matrix_multiply(&r->m[depth - 1], &own);
    }
    if (!is_shape(name))
        return 0;
    char *id = attr_dup(r, "id");
    if (!id)
        return 0;
    int st = *id ? add_hold(r, name, id) : 0;
    free(id);
    return st;
}

static void free_hold(svg_hold *h)
{
    free(h->id);
    free(h->d);
    free(h->style);
    free(h->transform);
    outline_free(&h->outline);
}

/* If any hold has class "hold", the others are decoration. */
static void keep_hold_class(wall_reader *r)
{
    if (!r->any_hold_class)
        return;
    size_t n = 0;
    for (size_t i = 0; i < r->w->nholds; i++) {
        if (r->hold_class[i]) {
            r->hold_pos[n] = r->hold_pos[i];
            r->w->holds[n++] = r->w->holds[i];
        } else
            free_hold(&r->w->holds[i]);
    }
    r->w->nholds = n;
}

static int read_document(wall_reader *r)
{
    for (;;) {
        switch (xml_scan_next(&r->x)) {
        case XML_SCAN_START:
            if (start_element(r) < 0)
                return -1;
            break;
        case XML_SCAN_END:
            if (r->skip_depth == r->x.depth + 1)
                r->skip_depth = 0;
            break;
        case XML_SCAN_EOF:
            return 0;
        case XML_SCAN_ERROR:
            buf_append(r->err, r->x.err.data, r->x.err.len);
            return -1;
        }
    }
}

static int by_id(const void *a, const void *b, void *wall)
{
    const svg_wall *w = wall;
    return strcmp(w->holds[*(const size_t *)a].id,
                  w->holds[*(const size_t *)b].id);
}

/* Sorts the ids for svg_wall_find(); two holds with one id are an error,
 * since a route could not say which it means. */
static int index_ids(wall_reader *r)
{
    svg_wall *w = r->w;
    w->by_id = xmalloc((w->nholds ? w->nholds : 1) * sizeof(size_t));
    for (size_t i = 0; i < w->nholds; i++)
        w->by_id[i] = i;
    qsort_r(w->by_id, w->nholds, sizeof(size_t), by_id, w);
    for (size_t i = 1; i < w->nholds; i++) {
        size_t a = w->by_id[i - 1], b = w->by_id[i];
        if (strcmp(w->holds[a].id, w->holds[b].id) == 0) {
            size_t line, col;
            xml_scan_where(&r->x, r->hold_pos[a > b ? a : b], &line, &col);
            buf_printf(r->err, "line %zu, column %zu: id '%s' is used twice",
                       line, col, w->holds[a].id);
            return -1;
        }
    }
    return 0;
}

int svg_wall_parse(const char *s, size_t len, svg_wall *out, buf *err)
{
    wall_reader r;
    memset(&r, 0, sizeof(r));
    memset(out, 0, sizeof(*out));
    xml_scan_init(&r.x, s, len);
    r.w = out;
    r.err = err;
    r.m[0] = svg_matrix_identity;
    buf_init(&r.value);
    buf_init(&r.d);
    int st = read_document(&r);
    if (st == 0) {
        keep_hold_class(&r);
        if (out->nholds == 0) {
            buf_append_str(err, "no holds: no path, circle, ellipse, rect, "
                                "polygon or polyline with an id outside "
                                "defs");
            st = -1;
        } else {
            st = index_ids(&r);
        }
    }
    free(r.hold_class);
    free(r.hold_pos);
    buf_free(&r.value);
    buf_free(&r.d);
    xml_scan_free(&r.x);
    if (st < 0)
        svg_wall_free(out);
    return st;
}

void svg_wall_free(svg_wall *w)
{
    for (size_t i = 0; i < w->nholds; i++)
        free_hold(&w->holds[i]);
    free(w->holds);
    free(w->by_id);
    memset(w, 0, sizeof(*w));
}

/* strcmp order, for a key that carries its length. */
static int compare_id(const char *id, size_t len, const char *hold_id)
{
    size_t n = strlen(hold_id);
    int c = memcmp(id, hold_id, len < n ? len : n);
    if (c)
        return c;
    return len < n ? -1 : len > n;
}

long svg_wall_find(const svg_wall *w, const char *id, size_t len)
{
    size_t lo = 0, hi = w->nholds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_id(id, len, w->holds[w->by_id[mid]].id);
        if (c == 0)
            return (long)w->by_id[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}
