/* libFuzzer target: any path data parses to rings or an error naming the
 * byte; flattened points are finite. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "svg_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    outline o;
    buf err;
    outline_init(&o);
    buf_init(&err);
    if (svg_path_parse((const char *)data, size, NULL, &o, &err) == 0) {
        for (size_t r = 0; r < o.nrings; r++)
            for (size_t i = 0; i < o.rings[r].n; i++)
                if (!isfinite(o.rings[r].pts[i].x) ||
                    !isfinite(o.rings[r].pts[i].y))
                    abort();
        outline_touches(&o, 1, 1, 10);
    } else if (!err.data) {
        abort();
    }
    outline_free(&o);
    buf_free(&err);
    return 0;
}
