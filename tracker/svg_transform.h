/* svg_transform: the SVG `transform` attribute: a list of matrix,
 * translate, scale, rotate (with optional centre), skewX and skewY,
 * applied right to left as SVG specifies, composed into one matrix. */
#ifndef POSETRACKD_SVG_TRANSFORM_H
#define POSETRACKD_SVG_TRANSFORM_H

#include <stddef.h>

#include "buf.h"
#include "svg_path.h"

/* out = a then b: the matrix that applies b first, then a (a x b). */
svg_matrix svg_matrix_multiply(const svg_matrix *a, const svg_matrix *b);
/* Parses s into out. Returns 0, or -1 with err naming the byte. */
int svg_transform_parse(const char *s, size_t len, svg_matrix *out, buf *err);

#endif
