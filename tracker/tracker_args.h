/* tracker_args: the tracker task's parameters (DESIGN §4) bound from a
 * Celery call the way Python binds them, then checked: a value of the
 * wrong type is a TypeError, a value of the right type that cannot be
 * used (a negative duration, a URL that is not ws:// or wss://, route
 * data that is not JSON) a ValueError. */
#ifndef POSETRACKD_TRACKER_ARGS_H
#define POSETRACKD_TRACKER_ARGS_H

#include <jansson.h>

#include "buf.h"
#include "json_span.h"
#include "tracker_core.h"

#define TRACKER_TASK_FUNC "websocket_pose_session_tracker_task"

/* Owned by the caller; tracker_args_free() releases it. */
typedef struct tracker_args {
    long wall_id;
    char *input_url;
    char *output_url;
    char *control_url; /* NULL: no control socket */
    double reconnect_delay;
    int debug;
    tracker_params params;
    json_t *route_data; /* NULL when not given */
    long route_id;      /* 0 when not given */
} tracker_args;

/* Returns 0, or -1 with the exception's class name in *exc_type
 * ("TypeError" or "ValueError") and its message in err. */
int tracker_args_parse(json_span args, json_span kwargs, tracker_args *out,
                       const char **exc_type, buf *err);
void tracker_args_free(tracker_args *a);
/* 1 if url is a ws:// or wss:// URL posetrackd can connect to (ws_url_parse).
 */
int tracker_args_url_ok(const char *url);

#endif
