/* pose_frame: one message of the input WebSocket, as the pose estimator
 * streams it (DESIGN §6):
 *
 *   {"type": "pose", "timestamp": 1763644517219, "width": 480,
 *    "height": 640, "landmarks": [33 x {"x", "y", "z", "visibility"}]}
 *
 * The landmarks may also come under "pose" or "data". Anything else is
 * rejected with a reason the tracker counts. */
#ifndef POSETRACKD_POSE_FRAME_H
#define POSETRACKD_POSE_FRAME_H

#include <stddef.h>

#include "pose.h"

/* A MediaPipe frame is about 3.5 KiB; a frame over this is not a pose. */
#define POSE_FRAME_MAX_BYTES (64u * 1024)
/* Coordinates are normalized; anything beyond this is garbage, not a
 * point slightly outside the image. */
#define POSE_FRAME_MAX_COORD 1e6

typedef enum pose_frame_status {
    POSE_FRAME_OK = 0,
    POSE_FRAME_TOO_LARGE,
    POSE_FRAME_NOT_JSON,
    POSE_FRAME_NOT_POSE,      /* another message type, or not an object */
    POSE_FRAME_NO_LANDMARKS,  /* no landmarks/pose/data array */
    POSE_FRAME_BAD_COUNT,     /* not 33 landmarks */
    POSE_FRAME_BAD_LANDMARK,  /* a landmark with missing or wrong values */
    POSE_FRAME_BAD_TIMESTAMP, /* timestamp present but not a number >= 0 */
    POSE_FRAME_STATUS_COUNT,
} pose_frame_status;

typedef struct pose_frame {
    pose pose; /* body landmarks 0..32 filled; 33, 34 left zero */
    int has_timestamp;
    double timestamp_ms;
    int width, height; /* 0 when absent */
} pose_frame;

/* Parses without allocating. */
pose_frame_status pose_frame_parse(const char *s, size_t len, pose_frame *out);
/* A short name for a status, for counters and logs. */
const char *pose_frame_status_name(pose_frame_status st);

#endif
