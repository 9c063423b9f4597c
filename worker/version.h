/* version: the one place the release number is written. */
#ifndef POSETRACKD_VERSION_H
#define POSETRACKD_VERSION_H

#define POSETRACKD_VERSION "0.1.0"

#endif
