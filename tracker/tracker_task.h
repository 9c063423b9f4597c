/* tracker_task: websocket_pose_session_tracker_task (DESIGN §4, §6) as a
 * task of the worker's task API: arguments in, WebSockets in and out,
 * PROGRESS while it runs, a summary at the end. */
#ifndef POSETRACKD_TRACKER_TASK_H
#define POSETRACKD_TRACKER_TASK_H

#include <uv.h>

#include "buf.h"
#include "wall_store.h"

/* The names the Django app calls it by. */
#define TRACKER_TASK_NAME "climber.tasks.websocket_pose_session_tracker_task"
#define TRACKER_TASK_SHORT_NAME "websocket_pose_session_tracker_task"

/* Registers the task under both names. store (may be NULL: every run
 * fails with a clear error), the CA file and the ping interval (seconds)
 * of the WebSocket hub are used by every run;
 * the store is owned by the tracker module from here on. Returns 0, or -1
 * with err. */
int tracker_task_setup(uv_loop_t *loop, wall_store *store, const char *ca_file,
                       double ping_interval, buf *err);
/* After the loop has ended: releases the store and the WebSocket hub. */
void tracker_task_teardown(void);

#endif
