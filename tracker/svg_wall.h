/* svg_wall: a wall drawing read into its holds (DESIGN §6.3): the size of
 * the drawing in user units, and every hold shape (path, circle, ellipse,
 * rect, polygon, polyline with an id) with its transforms applied and its
 * curves flattened. If any shape has class "hold", only those count;
 * nothing inside defs, clipPath, mask, symbol, marker or pattern counts. */
#ifndef POSETRACKD_SVG_WALL_H
#define POSETRACKD_SVG_WALL_H

#include <stddef.h>

#include "buf.h"
#include "outline.h"

/* Flattened points of all holds together: the reference wall has 8,340;
 * this bounds what a hostile file can make the tracker hold in memory
 * (32 MB). */
#define SVG_WALL_MAX_POINTS 2000000

typedef struct svg_hold {
    char *id;
    char *d;         /* path data in the element's own user units */
    char *style;     /* the element's style attribute, or NULL */
    char *transform; /* "matrix(a,b,c,d,e,f)" of the element and its
                        groups, or NULL when there is none */
    outline outline; /* in the drawing's user units, transforms applied */
} svg_hold;

/* Owned by the caller of svg_wall_parse(); released with svg_wall_free(). */
typedef struct svg_wall {
    /* Normalized wall coordinates (0..1) span this box of user units:
     * the viewBox, else width and height. */
    double x, y, width, height;
    svg_hold *holds; /* in document order */
    size_t nholds;
    size_t *by_id; /* hold indices sorted by id, for svg_wall_find() */
} svg_wall;

/* Reads an SVG document. Returns 0, or -1 with err naming the problem and
 * where ("line 12, column 3: path 'hold_3': d: ..."); a drawing without
 * holds is an error. */
int svg_wall_parse(const char *s, size_t len, svg_wall *out, buf *err);
void svg_wall_free(svg_wall *w);
/* The index of the hold with this id, or -1. */
long svg_wall_find(const svg_wall *w, const char *id, size_t len);

#endif
