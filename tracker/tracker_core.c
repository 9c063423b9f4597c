/* tracker_core: a frame goes through the steps of DESIGN §6 in order:
 * parse, map through the calibration, extend the hands, find the holds
 * each visible hand touches (through the wall's grid index), advance the
 * session, and write the session frame. The session's holds are the
 * route's in route order; slot_of maps the wall's holds back to them. */
#include "tracker_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hands.h"
#include "homography.h"
#include "isotime.h"
#include "outline.h"

/* Decimals streamed for landmark coordinates: a micro-unit of the wall,
 * far below what a camera resolves. */
#define TRACKER_POSE_DECIMALS 6

static void map_holds(tracker_core *t)
{
    const svg_wall *svg = &t->wall->svg;
    free(t->svg_of);
    free(t->slot_of);
    free(t->touching);
    t->nholds = t->has_route ? t->route.nholds : svg->nholds;
    t->svg_of = xmalloc((t->nholds ? t->nholds : 1) * sizeof(int32_t));
    t->slot_of = xmalloc((svg->nholds ? svg->nholds : 1) * sizeof(int32_t));
    t->touching = xcalloc(t->nholds ? t->nholds : 1, 1);
    for (size_t i = 0; i < svg->nholds; i++)
        t->slot_of[i] = -1;
    session_hold_type *types =
        xmalloc((t->nholds ? t->nholds : 1) * sizeof(*types));
    for (size_t i = 0; i < t->nholds; i++) {
        long k = (long)i;
        if (t->has_route) {
            const route_hold *h = &t->route.holds[i];
            k = svg_wall_find(svg, h->id, strlen(h->id));
            types[i] = h->type;
        } else {
            types[i] = route_type_from_id(svg->holds[i].id);
        }
        t->svg_of[i] = (int32_t)k;
        if (k >= 0 && t->slot_of[k] < 0)
            t->slot_of[k] = (int32_t)i;
    }
    double start = t->session.start_time;
    session_free(&t->session);
    session_init(&t->session, types, t->nholds, t->params.touch_duration,
                 start);
    free(types);
    t->session_stale = 1;
}

void tracker_core_init(tracker_core *t, wall *w, route *r,
                       const tracker_params *p, double now)
{
    memset(t, 0, sizeof(*t));
    t->wall = w;
    t->params = *p;
    buf_init(&t->session_text);
    if (r) {
        t->route = *r;
        t->has_route = 1;
        memset(r, 0, sizeof(*r));
    }
    t->session.start_time = now;
    map_holds(t);
}

void tracker_core_free(tracker_core *t)
{
    session_free(&t->session);
    route_free(&t->route);
    free(t->svg_of);
    free(t->slot_of);
    free(t->touching);
    buf_free(&t->session_text);
    wall_unref(t->wall);
    memset(t, 0, sizeof(*t));
}

typedef struct touch_query {
    tracker_core *t;
    double x, y;
} touch_query;

static void visit_hold(void *data, uint32_t hold)
{
    touch_query *q = data;
    int32_t slot = q->t->slot_of[hold];
    if (slot < 0 || q->t->touching[slot])
        return;
    if (outline_touches(&q->t->wall->svg.holds[hold].outline, q->x, q->y,
                        q->t->params.proximity_threshold))
        q->t->touching[slot] = 1;
}

/* Marks the holds a hand touches: its point in SVG units against the
 * holds near it. */
static void touch_hand(tracker_core *t, const pose_landmark *hand)
{
    if (!(hand->visibility > t->params.visibility_threshold))
        return;
    const svg_wall *svg = &t->wall->svg;
    touch_query q = {t, svg->x + hand->x * svg->width,
                     svg->y + hand->y * svg->height};
    hold_index_query(&t->wall->index, q.x, q.y, t->params.proximity_threshold,
                     visit_hold, &q);
}

pose_frame_status tracker_core_frame(tracker_core *t, const char *msg,
                                     size_t len, double now, buf *out)
{
    pose_frame f;
    pose_frame_status st = pose_frame_parse(msg, len, &f);
    if (st != POSE_FRAME_OK) {
        t->rejected[st]++;
        return st;
    }
    t->accepted++;
    homography_apply_pose(&t->wall->calibration, &f.pose);
    hands_extend(&f.pose, t->wall->hand_extension_percent);
    t->pose = f.pose;
    t->has_pose = 1;
    memset(t->touching, 0, t->nholds);
    touch_hand(t, &t->pose.lm[POSE_LEFT_HAND]);
    touch_hand(t, &t->pose.lm[POSE_RIGHT_HAND]);
    double time = f.has_timestamp ? f.timestamp_ms / 1000 : now;
    if (session_update(&t->session, time, t->touching))
        t->session_stale = 1;
    tracker_core_output(t, out);
    return POSE_FRAME_OK;
}

static void append_time(buf *out, double t)
{
    buf_append_char(out, '"');
    isotime_format_ms(out, t);
    buf_append_char(out, '"');
}

static const char *hold_id(const tracker_core *t, size_t i)
{
    return t->has_route ? t->route.holds[i].id : t->wall->svg.holds[i].id;
}

void tracker_core_session_json(const tracker_core *t, buf *out)
{
    const session *s = &t->session;
    buf_append_str(out, "{\"holds\":[");
    for (size_t i = 0; i < t->nholds; i++) {
        const session_hold *h = &s->holds[i];
        const char *id = hold_id(t, i);
        buf_append_str(out, i ? ",{\"id\":" : "{\"id\":");
        buf_append_json_str(out, id, strlen(id));
        buf_append_str(out, ",\"type\":\"");
        buf_append_str(out, route_type_name(h->type));
        buf_append_str(out, h->touched
                                ? "\",\"status\":\"touched\",\"time\":"
                                : "\",\"status\":\"untouched\",\"time\":");
        if (h->touched)
            append_time(out, h->touched_at);
        else
            buf_append_str(out, "null");
        buf_append_char(out, '}');
    }
    buf_append_str(out, "],\"startTime\":");
    append_time(out, s->start_time);
    buf_append_str(out, ",\"endTime\":");
    if (s->status == SESSION_STARTED)
        buf_append_str(out, "null");
    else
        append_time(out, s->end_time);
    buf_append_str(out, ",\"status\":\"");
    buf_append_str(out, session_status_name(s->status));
    buf_append_str(out, "\"}");
}

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* The 140 numbers of the pose are most of a session frame: room for all
 * of them is reserved once and they are written in place. */
static void append_pose(const tracker_core *t, buf *out)
{
    enum { PER_LANDMARK = 4 * BUF_DECIMAL_MAX + 32 };
    buf_reserve(out, 16 + POSE_LANDMARKS * PER_LANDMARK);
    char *p = out->data + out->len;
    p = PUT(p, ",\"pose\":[");
    for (int i = 0; i < POSE_LANDMARKS; i++) {
        const pose_landmark *l = &t->pose.lm[i];
        p = i ? PUT(p, ",{\"x\":") : PUT(p, "{\"x\":");
        p += buf_format_decimal(p, l->x, TRACKER_POSE_DECIMALS);
        p = PUT(p, ",\"y\":");
        p += buf_format_decimal(p, l->y, TRACKER_POSE_DECIMALS);
        p = PUT(p, ",\"z\":");
        p += buf_format_decimal(p, l->z, TRACKER_POSE_DECIMALS);
        p = PUT(p, ",\"visibility\":");
        p += buf_format_decimal(p, l->visibility, TRACKER_POSE_DECIMALS);
        *p++ = '}';
    }
    *p++ = ']';
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
}

/* The touched holds' drawings, for a screen that shows only the SVG. */
static void append_svg_paths(const tracker_core *t, buf *out)
{
    buf_append_str(out, ",\"touched_svg_paths\":[");
    int first = 1;
    for (size_t i = 0; i < t->nholds; i++) {
        if (!t->session.holds[i].touched || t->svg_of[i] < 0)
            continue;
        const svg_hold *h = &t->wall->svg.holds[t->svg_of[i]];
        buf_append_str(out, first ? "{\"id\":" : ",{\"id\":");
        first = 0;
        buf_append_json_str(out, h->id, strlen(h->id));
        buf_append_str(out, ",\"d\":");
        buf_append_json_str(out, h->d, strlen(h->d));
        buf_append_str(out, ",\"style\":");
        if (h->style)
            buf_append_json_str(out, h->style, strlen(h->style));
        else
            buf_append_str(out, "null");
        if (h->transform) {
            buf_append_str(out, ",\"transform\":");
            buf_append_json_str(out, h->transform, strlen(h->transform));
        }
        buf_append_char(out, '}');
    }
    buf_append_char(out, ']');
}

const buf *tracker_core_session_text(tracker_core *t)
{
    /* The session's text changes only when a hold becomes touched or the
     * status does: most frames reuse it. */
    if (t->session_stale) {
        buf_reset(&t->session_text);
        tracker_core_session_json(t, &t->session_text);
        t->session_stale = 0;
    }
    return &t->session_text;
}

void tracker_core_output(tracker_core *t, buf *out)
{
    const buf *session = tracker_core_session_text(t);
    buf_append_str(out, "{\"session\":");
    buf_append(out, session->data, session->len);
    if (t->params.stream_svg_only)
        append_svg_paths(t, out);
    else if (!t->params.no_stream_landmarks && t->has_pose)
        append_pose(t, out);
    buf_append_char(out, '}');
}

void tracker_core_reset(tracker_core *t, double now)
{
    session_reset(&t->session, now);
    t->session_stale = 1;
}

void tracker_core_stop(tracker_core *t, double now)
{
    session_stop(&t->session, now);
    t->session_stale = 1;
}

void tracker_core_set_params(tracker_core *t, const tracker_params *p)
{
    t->params = *p;
    session_set_touch_duration(&t->session, p->touch_duration);
}

void tracker_core_set_route(tracker_core *t, route *r, double now)
{
    route_free(&t->route);
    t->route = *r;
    t->has_route = 1;
    memset(r, 0, sizeof(*r));
    t->session.start_time = now;
    map_holds(t);
}

void tracker_core_reject(tracker_core *t, pose_frame_status why)
{
    if (why > POSE_FRAME_OK && why < POSE_FRAME_STATUS_COUNT)
        t->rejected[why]++;
}

uint64_t tracker_core_rejected(const tracker_core *t)
{
    uint64_t n = 0;
    for (int i = 0; i < POSE_FRAME_STATUS_COUNT; i++)
        n += t->rejected[i];
    return n;
}
