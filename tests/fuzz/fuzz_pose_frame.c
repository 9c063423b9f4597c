/* libFuzzer target: any bytes from the input WebSocket parse to a frame or
 * a rejection; an accepted frame holds only finite numbers. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pose_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pose_frame f;
    if (pose_frame_parse((const char *)data, size, &f) == POSE_FRAME_OK) {
        for (int i = 0; i < POSE_BODY_LANDMARKS; i++) {
            const pose_landmark *l = &f.pose.lm[i];
            if (!isfinite(l->x) || !isfinite(l->y) || !isfinite(l->z) ||
                !isfinite(l->visibility))
                abort();
        }
    }
    return 0;
}
