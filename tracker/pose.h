/* pose: the MediaPipe pose as the tracker works on it: 33 body landmarks
 * plus the two extended hand points the tracker adds (33 left, 34 right).
 * Coordinates are normalized (camera image, or the wall after the
 * homography); z and visibility are MediaPipe's. */
#ifndef POSETRACKD_POSE_H
#define POSETRACKD_POSE_H

/* MediaPipe Pose's landmark count. */
#define POSE_BODY_LANDMARKS 33
/* Body landmarks plus the two extended hands. */
#define POSE_LANDMARKS 35
#define POSE_LEFT_HAND 33
#define POSE_RIGHT_HAND 34

/* MediaPipe indices the hands are built from. */
enum {
    POSE_LEFT_ELBOW = 13,
    POSE_RIGHT_ELBOW = 14,
    POSE_LEFT_WRIST = 15,
    POSE_RIGHT_WRIST = 16,
    POSE_LEFT_PINKY = 17,
    POSE_RIGHT_PINKY = 18,
    POSE_LEFT_INDEX = 19,
    POSE_RIGHT_INDEX = 20,
    POSE_LEFT_THUMB = 21,
    POSE_RIGHT_THUMB = 22,
};

typedef struct pose_landmark {
    double x, y, z;
    double visibility;
} pose_landmark;

typedef struct pose {
    pose_landmark lm[POSE_LANDMARKS];
} pose;

#endif
