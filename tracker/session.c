/* session: a hold's timer runs while it is touched in consecutive frames
 * and is cleared by any frame without a touch; it becomes touched once the
 * timer reaches touch_duration, stamped with the moment it did (touch
 * start + duration), not the frame's time, so the result does not depend
 * on the frame rate. Time going backwards (a restarted stream, a
 * reordered frame) restarts the timers but keeps what was touched. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Timestamps are milliseconds; a microsecond of slack keeps a touch that
 * lasted exactly touch_duration from being lost to rounding. */
#define SESSION_TIME_EPSILON 1e-6

static void clear_timers(session *s)
{
    for (size_t i = 0; i < s->nholds; i++)
        s->holds[i].touch_start = -1;
}

void session_init(session *s, const session_hold_type *types, size_t n,
                  double touch_duration, double now)
{
    memset(s, 0, sizeof(*s));
    s->holds = xcalloc(n ? n : 1, sizeof(session_hold));
    s->nholds = n;
    for (size_t i = 0; i < n; i++)
        s->holds[i].type = types[i];
    s->touch_duration = touch_duration;
    session_reset(s, now);
}

void session_free(session *s)
{
    free(s->holds);
    memset(s, 0, sizeof(*s));
}

/* Completed when the route has finish holds and every one is touched;
 * the end is when the last of them became touched. */
static int check_completed(session *s)
{
    double last = 0;
    size_t finishes = 0;
    for (size_t i = 0; i < s->nholds; i++) {
        const session_hold *h = &s->holds[i];
        if (h->type != SESSION_HOLD_FINISH)
            continue;
        finishes++;
        if (!h->touched)
            return 0;
        if (h->touched_at > last)
            last = h->touched_at;
    }
    if (finishes == 0)
        return 0;
    s->status = SESSION_COMPLETED;
    s->end_time = last;
    return 1;
}

int session_update(session *s, double t, const unsigned char *touching)
{
    if (s->has_last && t < s->last_time)
        clear_timers(s);
    s->last_time = t;
    s->has_last = 1;
    int changed = 0;
    for (size_t i = 0; i < s->nholds; i++) {
        session_hold *h = &s->holds[i];
        if (!touching[i]) {
            h->touch_start = -1;
            continue;
        }
        if (h->touch_start < 0)
            h->touch_start = t;
        if (!h->touched &&
            t - h->touch_start >= s->touch_duration - SESSION_TIME_EPSILON) {
            h->touched = 1;
            h->touched_at = h->touch_start + s->touch_duration;
            changed = 1;
        }
    }
    if (changed && s->status == SESSION_STARTED)
        check_completed(s);
    return changed;
}

void session_stop(session *s, double t)
{
    if (s->status == SESSION_STARTED) {
        s->status = SESSION_ABANDONED;
        s->end_time = t;
    }
}

void session_reset(session *s, double t)
{
    for (size_t i = 0; i < s->nholds; i++) {
        s->holds[i].touched = 0;
        s->holds[i].touched_at = 0;
    }
    clear_timers(s);
    s->start_time = t;
    s->end_time = 0;
    s->status = SESSION_STARTED;
    s->has_last = 0;
}

void session_set_touch_duration(session *s, double touch_duration)
{
    s->touch_duration = touch_duration;
}

const char *session_status_name(session_status st)
{
    switch (st) {
    case SESSION_COMPLETED:
        return "completed";
    case SESSION_ABANDONED:
        return "abandoned";
    default:
        return "started";
    }
}
