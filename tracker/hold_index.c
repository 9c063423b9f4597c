/* hold_index: cells are stored compressed (a start offset per cell into
 * one array of hold numbers), built in two passes: count, then fill. */
#include "hold_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

typedef struct cell_range {
    uint32_t x0, y0, x1, y1;
} cell_range;

static uint32_t cell_of(double v, double origin, double size, uint32_t n)
{
    double c = floor((v - origin) / size);
    if (!(c > 0))
        return 0;
    return c >= n ? n - 1 : (uint32_t)c;
}

static cell_range range_of(const hold_index *ix, double x0, double y0,
                           double x1, double y1)
{
    cell_range r = {cell_of(x0, ix->x0, ix->cw, ix->nx),
                    cell_of(y0, ix->y0, ix->ch, ix->ny),
                    cell_of(x1, ix->x0, ix->cw, ix->nx),
                    cell_of(y1, ix->y0, ix->ch, ix->ny)};
    return r;
}

static cell_range hold_range(const hold_index *ix, const outline *o)
{
    return range_of(ix, o->min_x, o->min_y, o->max_x, o->max_y);
}

static size_t entries(const hold_index *ix, const svg_wall *w)
{
    size_t total = 0;
    for (size_t i = 0; i < w->nholds; i++) {
        cell_range r = hold_range(ix, &w->holds[i].outline);
        total += (size_t)(r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
    }
    return total;
}

/* Square-ish cells over the holds' joint bounding box, about
 * HOLD_INDEX_CELLS_PER_HOLD per hold. */
static void size_grid(hold_index *ix, const svg_wall *w, double cells)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < w->nholds; i++) {
        const outline *o = &w->holds[i].outline;
        x0 = fmin(x0, o->min_x), y0 = fmin(y0, o->min_y);
        x1 = fmax(x1, o->max_x), y1 = fmax(y1, o->max_y);
    }
    double bw = fmax(x1 - x0, 1e-9), bh = fmax(y1 - y0, 1e-9);
    double side = sqrt(bw * bh / fmax(cells, 1));
    double nx = cells > 1 ? fmin(fmax(ceil(bw / side), 1), 4096) : 1;
    double ny = cells > 1 ? fmin(fmax(ceil(bh / side), 1), 4096) : 1;
    ix->x0 = x0, ix->y0 = y0;
    ix->nx = (uint32_t)nx, ix->ny = (uint32_t)ny;
    ix->cw = bw / nx, ix->ch = bh / ny;
}

void hold_index_build(hold_index *ix, const svg_wall *w)
{
    memset(ix, 0, sizeof(*ix));
    double cells = (double)w->nholds * HOLD_INDEX_CELLS_PER_HOLD;
    size_grid(ix, w, cells);
    while (entries(ix, w) > w->nholds * HOLD_INDEX_MAX_ENTRIES_PER_HOLD &&
           ix->nx * ix->ny > 1)
        size_grid(ix, w, (cells /= 4));
    size_t ncells = (size_t)ix->nx * ix->ny;
    ix->start = xcalloc(ncells + 1, sizeof(uint32_t));
    for (size_t i = 0; i < w->nholds; i++) {
        cell_range r = hold_range(ix, &w->holds[i].outline);
        for (uint32_t y = r.y0; y <= r.y1; y++)
            for (uint32_t x = r.x0; x <= r.x1; x++)
                ix->start[(size_t)y * ix->nx + x + 1]++;
    }
    for (size_t c = 0; c < ncells; c++)
        ix->start[c + 1] += ix->start[c];
    ix->items = xmalloc((ix->start[ncells] + 1) * sizeof(uint32_t));
    uint32_t *fill = xmalloc(ncells * sizeof(uint32_t));
    memcpy(fill, ix->start, ncells * sizeof(uint32_t));
    for (size_t i = 0; i < w->nholds; i++) {
        cell_range r = hold_range(ix, &w->holds[i].outline);
        for (uint32_t y = r.y0; y <= r.y1; y++)
            for (uint32_t x = r.x0; x <= r.x1; x++)
                ix->items[fill[(size_t)y * ix->nx + x]++] = (uint32_t)i;
    }
    free(fill);
}

void hold_index_free(hold_index *ix)
{
    free(ix->start);
    free(ix->items);
    memset(ix, 0, sizeof(*ix));
}

void hold_index_query(const hold_index *ix, double x, double y,
                      double threshold, void (*visit)(void *, uint32_t),
                      void *data)
{
    if (!ix->start || !isfinite(x) || !isfinite(y))
        return;
    /* Beyond the grid by more than the threshold: no hold is near. */
    if (x < ix->x0 - threshold || y < ix->y0 - threshold ||
        x > ix->x0 + ix->cw * ix->nx + threshold ||
        y > ix->y0 + ix->ch * ix->ny + threshold)
        return;
    cell_range r = range_of(ix, x - threshold, y - threshold, x + threshold,
                            y + threshold);
    for (uint32_t cy = r.y0; cy <= r.y1; cy++)
        for (uint32_t cx = r.x0; cx <= r.x1; cx++) {
            size_t c = (size_t)cy * ix->nx + cx;
            for (uint32_t k = ix->start[c]; k < ix->start[c + 1]; k++)
                visit(data, ix->items[k]);
        }
}
