/* svg_path: SVG path data (the `d` attribute) parsed into flattened rings:
 * every command (M L H V C S Q T A Z, absolute and relative), implicit
 * repeats, and the compact number syntax ("1.5.5", "1-2", arc flags
 * without separators). Curves are flattened to SVG_PATH_TOLERANCE. */
#ifndef POSETRACKD_SVG_PATH_H
#define POSETRACKD_SVG_PATH_H

#include <stddef.h>

#include "buf.h"
#include "outline.h"

/* The flattened outline stays within this of the true curve, in SVG units
 * (millimetres on the real wall): far below any touch threshold. */
#define SVG_PATH_TOLERANCE 0.25
/* Segments one curve may become, whatever its size: bounds the work a
 * hostile path can cause. */
#define SVG_PATH_MAX_SEGMENTS 256
/* Points one path may become in all: a real hold is a few hundred; this
 * bounds the memory a hostile wall file can take. */
#define SVG_PATH_MAX_POINTS 100000

/* An affine transform [a c e; b d f] as SVG writes matrix(a b c d e f). */
typedef struct svg_matrix {
    double a, b, c, d, e, f;
} svg_matrix;

extern const svg_matrix svg_matrix_identity;

/* Parses d, maps every point through m and adds the subpaths to out as
 * rings. Returns 0, or -1 with err naming the byte offset and what was
 * expected. */
int svg_path_parse(const char *d, size_t len, const svg_matrix *m, outline *out,
                   buf *err);

#endif
