/* pose_frame: frames are parsed with the span scanner straight into the
 * pose struct: no tree, no allocation per frame or per landmark. Every
 * number is checked to be finite and in range, so nothing downstream
 * sees NaN or infinity from the network. */
#include "pose_frame.h"

#include <math.h>
#include <string.h>

#include "json_span.h"

static int span_is_str(json_span v, const char *lit)
{
    size_t n = strlen(lit);
    return v.len == n + 2 && v.p[0] == '"' && memcmp(v.p + 1, lit, n) == 0;
}

/* Reads a coordinate; an absent optional one takes dflt. */
static int coord(json_span v, double *out, int required, double dflt)
{
    if (v.len == 0) {
        *out = dflt;
        return !required;
    }
    double d;
    if (json_span_number(v, &d) || !isfinite(d) ||
        fabs(d) > POSE_FRAME_MAX_COORD)
        return 0;
    *out = d;
    return 1;
}

static int parse_landmark(json_span obj, pose_landmark *l)
{
    json_span x = {0}, y = {0}, z = {0}, vis = {0}, key, val;
    size_t pos = 0;
    if (json_span_kind(obj) != JSON_KIND_OBJECT)
        return 0;
    while (json_span_object_next(obj, &pos, &key, &val)) {
        if (json_span_key_is(key, "x"))
            x = val;
        else if (json_span_key_is(key, "y"))
            y = val;
        else if (json_span_key_is(key, "z"))
            z = val;
        else if (json_span_key_is(key, "visibility"))
            vis = val;
    }
    /* MediaPipe always sends all four; z and visibility default to what a
     * 2-D estimator would mean (flat, fully visible). */
    return coord(x, &l->x, 1, 0) && coord(y, &l->y, 1, 0) &&
           coord(z, &l->z, 0, 0) && coord(vis, &l->visibility, 0, 1);
}

static pose_frame_status parse_landmarks(json_span arr, pose_frame *out)
{
    size_t pos = 0, n = 0;
    json_span v;
    if (json_span_kind(arr) != JSON_KIND_ARRAY)
        return POSE_FRAME_NO_LANDMARKS;
    while (json_span_array_next(arr, &pos, &v)) {
        if (n == POSE_BODY_LANDMARKS)
            return POSE_FRAME_BAD_COUNT;
        if (!parse_landmark(v, &out->pose.lm[n]))
            return POSE_FRAME_BAD_LANDMARK;
        n++;
    }
    return n == POSE_BODY_LANDMARKS ? POSE_FRAME_OK : POSE_FRAME_BAD_COUNT;
}

static int small_int(json_span v)
{
    double d;
    if (json_span_number(v, &d) || !(d >= 0 && d < 1e6))
        return 0;
    return (int)d;
}

pose_frame_status pose_frame_parse(const char *s, size_t len, pose_frame *out)
{
    memset(out, 0, sizeof(*out));
    if (len > POSE_FRAME_MAX_BYTES)
        return POSE_FRAME_TOO_LARGE;
    json_span doc, key, val, type = {0}, ts = {0}, lms = {0};
    if (!json_span_whole(s, len, &doc))
        return POSE_FRAME_NOT_JSON;
    if (json_span_kind(doc) != JSON_KIND_OBJECT)
        return POSE_FRAME_NOT_POSE;
    size_t pos = 0;
    while (json_span_object_next(doc, &pos, &key, &val)) {
        if (json_span_key_is(key, "type"))
            type = val;
        else if (json_span_key_is(key, "timestamp"))
            ts = val;
        else if (json_span_key_is(key, "width"))
            out->width = small_int(val);
        else if (json_span_key_is(key, "height"))
            out->height = small_int(val);
        else if (!lms.len && (json_span_key_is(key, "landmarks") ||
                              json_span_key_is(key, "pose") ||
                              json_span_key_is(key, "data")))
            lms = val;
    }
    if (type.len && !span_is_str(type, "pose"))
        return POSE_FRAME_NOT_POSE;
    if (ts.len && json_span_kind(ts) != JSON_KIND_NULL) {
        if (json_span_number(ts, &out->timestamp_ms) ||
            !isfinite(out->timestamp_ms) || out->timestamp_ms < 0)
            return POSE_FRAME_BAD_TIMESTAMP;
        out->has_timestamp = 1;
    }
    if (!lms.len)
        return POSE_FRAME_NO_LANDMARKS;
    return parse_landmarks(lms, out);
}

const char *pose_frame_status_name(pose_frame_status st)
{
    static const char *const names[POSE_FRAME_STATUS_COUNT] = {
        "ok",           "too_large", "not_json",     "not_pose",
        "no_landmarks", "bad_count", "bad_landmark", "bad_timestamp",
    };
    return st < POSE_FRAME_STATUS_COUNT ? names[st] : "unknown";
}
