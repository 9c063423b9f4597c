/* libFuzzer target: any input message through a tracker on a small wall
 * is rejected with a reason or answered with a session frame that is one
 * valid JSON value. The tracker keeps its state across inputs, as a long
 * session does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_span.h"
#include "tracker_core.h"

static tracker_core *tracker(void)
{
    static tracker_core t;
    static int ready;
    if (ready)
        return &t;
    static const char svg[] =
        "<svg viewBox='0 0 1000 1000'><circle id='start_a' cx='200' "
        "cy='800' r='40'/><rect id='finish_b' x='450' y='450' width='100' "
        "height='100'/></svg>";
    json_t *H = json_loads("[[1.07,-0.23,-0.03],[-0.02,1.09,-0.09],"
                           "[0.03,-0.37,1]]",
                           0, NULL);
    buf err;
    buf_init(&err);
    wall *w = wall_new(1, "fuzz", svg, strlen(svg), H, 20, &err);
    json_decref(H);
    buf_free(&err);
    if (!w)
        abort();
    static const tracker_params p = {50, 0.1, 0.2, 0, 0};
    tracker_core_init(&t, w, NULL, &p, 1e9);
    ready = 1;
    return &t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf out;
    buf_init(&out);
    pose_frame_status st =
        tracker_core_frame(tracker(), (const char *)data, size, 1e9, &out);
    json_span v;
    if (st == POSE_FRAME_OK && !json_span_whole(out.data, out.len, &v))
        abort();
    if (st != POSE_FRAME_OK && out.len)
        abort();
    buf_free(&out);
    return 0;
}
