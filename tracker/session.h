/* session: the climbing session state machine (DESIGN §6.5, §6.6): per
 * hold, how long a hand has touched it and whether it became touched; for
 * the session, started, completed (all finish holds touched) or abandoned.
 * Pure logic: time is passed in (seconds since the epoch), nothing is read
 * from clocks or sockets. */
#ifndef POSETRACKD_SESSION_H
#define POSETRACKD_SESSION_H

#include <stddef.h>

typedef enum session_hold_type {
    SESSION_HOLD_NORMAL,
    SESSION_HOLD_START,
    SESSION_HOLD_FINISH,
} session_hold_type;

typedef enum session_status {
    SESSION_STARTED,
    SESSION_COMPLETED,
    SESSION_ABANDONED,
} session_status;

typedef struct session_hold {
    session_hold_type type;
    int touched;        /* became touched in this attempt */
    double touched_at;  /* touch start + touch_duration */
    double touch_start; /* < 0: no touch in progress */
} session_hold;

/* Owned by its creator; session_free() releases the hold array. */
typedef struct session {
    session_hold *holds;
    size_t nholds;
    double touch_duration;
    double start_time;
    double end_time;  /* valid unless status is SESSION_STARTED */
    double last_time; /* of the last update, to see time going backwards */
    int has_last;
    session_status status;
} session;

void session_init(session *s, const session_hold_type *types, size_t n,
                  double touch_duration, double now);
void session_free(session *s);
/* One frame at time t: touching[i] says whether a hand is on hold i now.
 * Returns 1 if a hold became touched or the session completed. */
int session_update(session *s, double t, const unsigned char *touching);
/* The tracker stops (revoke, end of stream): abandoned unless completed. */
void session_stop(session *s, double t);
/* reset_holds: a new attempt from t; statuses and timers cleared. */
void session_reset(session *s, double t);
void session_set_touch_duration(session *s, double touch_duration);
const char *session_status_name(session_status st);

#endif
