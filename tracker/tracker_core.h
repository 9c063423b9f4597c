/* tracker_core: the compute core of one tracker (DESIGN §6), a pure
 * function over this struct: a frame's text and the time go in, the
 * session frame to stream comes out. No sockets, no clocks. */
#ifndef POSETRACKD_TRACKER_CORE_H
#define POSETRACKD_TRACKER_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pose_frame.h"
#include "session.h"
#include "wall.h"

typedef struct tracker_params {
    double proximity_threshold;  /* SVG units */
    double touch_duration;       /* seconds */
    double visibility_threshold; /* a hand counts above this */
    int no_stream_landmarks;
    int stream_svg_only;
} tracker_params;

/* Owned by the tracker task; tracker_core_free() releases what it holds. */
typedef struct tracker_core {
    wall *wall;  /* a reference this core owns */
    route route; /* the holds followed, in order; owned */
    int has_route;
    tracker_params params;
    size_t nholds;           /* session holds: the route's, else the wall's */
    int32_t *svg_of;         /* per session hold: its wall hold, or -1 */
    int32_t *slot_of;        /* per wall hold: its session hold, or -1 */
    unsigned char *touching; /* per session hold, this frame */
    session session;
    pose pose; /* of the last accepted frame, on the wall */
    int has_pose;
    uint64_t accepted;
    uint64_t rejected[POSE_FRAME_STATUS_COUNT];
    buf session_text;  /* the "session" object as last written */
    int session_stale; /* the session changed since */
} tracker_core;

/* Takes over w's reference and r's contents (r may be NULL: all the
 * wall's holds, typed by their id prefixes); the session starts at now
 * (seconds since the epoch). */
void tracker_core_init(tracker_core *t, wall *w, route *r,
                       const tracker_params *p, double now);
void tracker_core_free(tracker_core *t);

/* One input message received at now. On POSE_FRAME_OK the session frame
 * to send is appended to out; otherwise the frame is counted as rejected
 * and out is untouched. */
pose_frame_status tracker_core_frame(tracker_core *t, const char *msg,
                                     size_t len, double now, buf *out);
/* The session frame for the current state (the last pose if any). */
void tracker_core_output(tracker_core *t, buf *out);
/* The "session" object alone. */
void tracker_core_session_json(const tracker_core *t, buf *out);
/* The same, as kept between changes (valid until the next call on t). */
const buf *tracker_core_session_text(tracker_core *t);

/* Control (DESIGN §6.8). */
void tracker_core_reset(tracker_core *t, double now);
void tracker_core_stop(tracker_core *t, double now);
void tracker_core_set_params(tracker_core *t, const tracker_params *p);
/* Follows another route from now on (a new attempt); takes r's contents. */
void tracker_core_set_route(tracker_core *t, route *r, double now);
uint64_t tracker_core_rejected(const tracker_core *t);
/* Counts a frame rejected before parsing (too large for the socket). */
void tracker_core_reject(tracker_core *t, pose_frame_status why);

#endif
