/* hands: the extended hand points (DESIGN §6.2). MediaPipe's wrist and
 * finger landmarks sit at the base of the hand; a climber touches holds
 * with the fingertips, so the tracker extends the hand forward. */
#ifndef POSETRACKD_HANDS_H
#define POSETRACKD_HANDS_H

#include "pose.h"

/* Computes landmarks 33 (left) and 34 (right) from the (wall-mapped) body
 * landmarks: palm = mean of wrist, pinky, index and thumb; direction =
 * unit(palm - elbow); point = palm + direction * |pinky - index| *
 * extension_percent / 100; visibility = the least of the four. A zero
 * length arm leaves the point at the palm; a hand whose landmarks are not
 * finite gets visibility 0 at (0, 0, 0). */
void hands_extend(pose *p, double extension_percent);

#endif
