/* hold_index: a uniform grid over a wall's holds, so finding the holds a
 * hand may touch looks at the few holds near it instead of every outline
 * on the wall. Built once per wall and shared by every tracker on it; the
 * touch threshold is given per query, since trackers differ in it. */
#ifndef POSETRACKD_HOLD_INDEX_H
#define POSETRACKD_HOLD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "svg_wall.h"

/* Grid cells per hold: about one hold per cell keeps candidate lists
 * short without a cell count that grows faster than the wall. */
#define HOLD_INDEX_CELLS_PER_HOLD 1
/* Cell entries per hold at most: a hostile drawing of huge overlapping
 * shapes gets a coarser grid instead of a quadratic one. */
#define HOLD_INDEX_MAX_ENTRIES_PER_HOLD 16

/* Owned by its builder; hold_index_free() releases it. */
typedef struct hold_index {
    double x0, y0;   /* grid origin, user units */
    double cw, ch;   /* cell size */
    uint32_t nx, ny; /* cells across and down */
    uint32_t *start; /* nx * ny + 1 offsets into items */
    uint32_t *items; /* hold indices per cell */
} hold_index;

void hold_index_build(hold_index *ix, const svg_wall *w);
void hold_index_free(hold_index *ix);

/* Calls visit(data, hold) for every hold whose bounding box may lie within
 * threshold of (x, y). A hold can be visited more than once. */
void hold_index_query(const hold_index *ix, double x, double y,
                      double threshold, void (*visit)(void *, uint32_t),
                      void *data);

#endif
