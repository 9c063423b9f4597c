/* homography: the calibration's 3x3 perspective transform from normalized
 * camera coordinates to normalized wall coordinates. */
#ifndef POSETRACKD_HOMOGRAPHY_H
#define POSETRACKD_HOMOGRAPHY_H

#include "pose.h"

typedef struct homography {
    double h[3][3];
} homography;

/* Maps (x, y) through H: [X Y W] = H [x y 1], result (X/W, Y/W). Returns
 * 0, or -1 when the point maps to infinity (W near 0) or a non-finite
 * value, leaving out untouched. */
int homography_apply(const homography *H, double x, double y, double *ox,
                     double *oy);
/* Maps every body landmark of p in place; z and visibility are kept. A
 * landmark that cannot be mapped gets visibility 0 and its coordinates
 * set to 0, so no NaN or infinity ever leaves the tracker. */
void homography_apply_pose(const homography *H, pose *p);
/* 1 if every entry is finite and the matrix is invertible enough to be a
 * real calibration. */
int homography_valid(const homography *H);
/* out = H^-1 (wall to camera, for generating test climbs). Returns 0, or
 * -1 if H is not valid. */
int homography_invert(const homography *H, homography *out);

#endif
