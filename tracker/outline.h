/* outline: a hold's shape as flattened polygons in SVG units, with its
 * bounding box, and the touch test DESIGN §6.4 needs: is a point inside
 * the outline or within a distance of it. */
#ifndef POSETRACKD_OUTLINE_H
#define POSETRACKD_OUTLINE_H

#include <stddef.h>

typedef struct outline_point {
    double x, y;
} outline_point;

/* One closed ring (the last point joins the first). */
typedef struct outline_ring {
    outline_point *pts;
    size_t n;
} outline_ring;

/* Owned by its creator; outline_free() releases the rings. */
typedef struct outline {
    outline_ring *rings;
    size_t nrings;
    double min_x, min_y, max_x, max_y; /* bounding box */
} outline;

void outline_init(outline *o);
void outline_free(outline *o);
/* Adds a ring (points copied); rings with fewer than 2 points are
 * ignored. */
void outline_add_ring(outline *o, const outline_point *pts, size_t n);
/* Inside by the even-odd rule, which is SVG's fill-rule for holes drawn as
 * inner rings. */
int outline_contains(const outline *o, double x, double y);
/* Distance from (x, y) to the nearest edge. */
double outline_distance(const outline *o, double x, double y);
/* Inside, or within threshold of an edge. The bounding box, grown by the
 * threshold, is checked first so most holds are rejected in four
 * comparisons. */
int outline_touches(const outline *o, double x, double y, double threshold);

#endif
