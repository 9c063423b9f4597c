/* libFuzzer target: any document reads into a wall or an error naming
 * where; every hold of a wall has an id, path data and finite points, and
 * the grid index built over it answers queries. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hold_index.h"
#include "svg_wall.h"

static void visit(void *data, uint32_t hold)
{
    const svg_wall *w = data;
    if (hold >= w->nholds)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    svg_wall w;
    buf err;
    buf_init(&err);
    if (svg_wall_parse((const char *)data, size, &w, &err) == 0) {
        for (size_t i = 0; i < w.nholds; i++) {
            const svg_hold *h = &w.holds[i];
            if (!h->id[0] || !h->d ||
                svg_wall_find(&w, h->id, strlen(h->id)) < 0)
                abort();
            for (size_t r = 0; r < h->outline.nrings; r++)
                for (size_t k = 0; k < h->outline.rings[r].n; k++)
                    if (!isfinite(h->outline.rings[r].pts[k].x) ||
                        !isfinite(h->outline.rings[r].pts[k].y))
                        abort();
        }
        hold_index ix;
        hold_index_build(&ix, &w);
        hold_index_query(&ix, w.x + w.width / 2, w.y + w.height / 2, 50, visit,
                         &w);
        hold_index_free(&ix);
        svg_wall_free(&w);
    } else if (!err.data || strncmp(err.data, "", 1) == 0) {
        abort();
    }
    buf_free(&err);
    return 0;
}
