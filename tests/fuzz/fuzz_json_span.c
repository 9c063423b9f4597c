/* libFuzzer target: the validator, the iterators and the string decoder
 * on arbitrary bytes. A validated container must iterate to its end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_span.h"

static void walk(json_span v, int depth)
{
    size_t pos = 0;
    json_span key, val;
    if (depth > 8)
        return;
    switch (json_span_kind(v)) {
    case JSON_KIND_ARRAY:
        while (json_span_array_next(v, &pos, &val))
            walk(val, depth + 1);
        break;
    case JSON_KIND_OBJECT:
        while (json_span_object_next(v, &pos, &key, &val))
            walk(val, depth + 1);
        break;
    case JSON_KIND_STRING: {
        buf b;
        buf_init(&b);
        json_span_string(v, &b);
        buf_free(&b);
        break;
    }
    case JSON_KIND_NUMBER: {
        double d;
        if (json_span_number(v, &d))
            abort();
        break;
    }
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_span v;
    if (json_span_whole((const char *)data, size, &v))
        walk(v, 0);
    return 0;
}
