/* libFuzzer target: any bytes as a Redis message must decode to a status,
 * never crash, leak or read out of bounds. On success the spans must be a
 * JSON array and object inside the decoded body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "celery_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    celery_msg m;
    buf err;
    buf_init(&err);
    celery_msg_status st =
        celery_msg_decode((const char *)data, size, &m, &err);
    if (st == CELERY_MSG_OK) {
        if (json_span_kind(m.args) != JSON_KIND_ARRAY ||
            json_span_kind(m.kwargs) != JSON_KIND_OBJECT || !m.id || !m.task)
            abort();
    } else if (!err.data) {
        abort(); /* every failure says why */
    }
    celery_msg_free(&m);
    buf_free(&err);
    return 0;
}
