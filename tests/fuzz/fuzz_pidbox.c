/* libFuzzer target: any bytes on the pidbox channel decode to a request or
 * an error, and a decoded request can be matched and answered. */
#include <stddef.h>
#include <stdint.h>

#include "pidbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pidbox_request r;
    buf err;
    buf_init(&err);
    if (pidbox_request_decode((const char *)data, size, &r, &err) == 0) {
        pidbox_request_is_for(&r, "posetrackd@host");
        if (r.ticket) {
            buf out;
            buf_init(&out);
            json_t *reply = json_object();
            pidbox_reply_encode(&out, "posetrackd@host", reply, &r, "t");
            json_decref(reply);
            buf_free(&out);
        }
        pidbox_request_free(&r);
    }
    buf_free(&err);
    return 0;
}
