/* outline: point-in-polygon by ray crossing (even-odd) and point-segment
 * distance, over every ring. Costs are linear in the number of points, so
 * the bounding-box test in outline_touches() matters: a frame checks two
 * hands against every hold. */
#include "outline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void outline_init(outline *o)
{
    memset(o, 0, sizeof(*o));
    o->min_x = o->min_y = INFINITY;
    o->max_x = o->max_y = -INFINITY;
}

void outline_free(outline *o)
{
    for (size_t i = 0; i < o->nrings; i++)
        free(o->rings[i].pts);
    free(o->rings);
    outline_init(o);
}

void outline_add_ring(outline *o, const outline_point *pts, size_t n)
{
    if (n < 2)
        return;
    o->rings = xrealloc(o->rings, (o->nrings + 1) * sizeof(outline_ring));
    outline_ring *r = &o->rings[o->nrings++];
    r->pts = xmalloc(n * sizeof(outline_point));
    memcpy(r->pts, pts, n * sizeof(outline_point));
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        o->min_x = fmin(o->min_x, pts[i].x);
        o->min_y = fmin(o->min_y, pts[i].y);
        o->max_x = fmax(o->max_x, pts[i].x);
        o->max_y = fmax(o->max_y, pts[i].y);
    }
}

int outline_contains(const outline *o, double x, double y)
{
    int inside = 0;
    for (size_t r = 0; r < o->nrings; r++) {
        const outline_ring *ring = &o->rings[r];
        for (size_t i = 0, j = ring->n - 1; i < ring->n; j = i++) {
            const outline_point *a = &ring->pts[i], *b = &ring->pts[j];
            if ((a->y > y) != (b->y > y) &&
                x < (b->x - a->x) * (y - a->y) / (b->y - a->y) + a->x)
                inside = !inside;
        }
    }
    return inside;
}

static double segment_distance(outline_point a, outline_point b, double x,
                               double y)
{
    double dx = b.x - a.x, dy = b.y - a.y;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((x - a.x) * dx + (y - a.y) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double px = a.x + t * dx - x, py = a.y + t * dy - y;
    return sqrt(px * px + py * py);
}

double outline_distance(const outline *o, double x, double y)
{
    double best = INFINITY;
    for (size_t r = 0; r < o->nrings; r++) {
        const outline_ring *ring = &o->rings[r];
        for (size_t i = 0, j = ring->n - 1; i < ring->n; j = i++) {
            double d = segment_distance(ring->pts[j], ring->pts[i], x, y);
            if (d < best)
                best = d;
        }
    }
    return best;
}

int outline_touches(const outline *o, double x, double y, double threshold)
{
    if (o->nrings == 0 || x < o->min_x - threshold ||
        x > o->max_x + threshold || y < o->min_y - threshold ||
        y > o->max_y + threshold)
        return 0;
    return outline_contains(o, x, y) || outline_distance(o, x, y) <= threshold;
}
