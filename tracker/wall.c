/* wall: construction and validation of walls and routes; the stores only
 * fetch the bytes and fields. */
#include "wall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int read_matrix(const json_t *m, homography *H, buf *err)
{
    if (!json_is_array(m) || json_array_size(m) != 3) {
        buf_append_str(err, "perspective_transform is not a 3x3 array");
        return -1;
    }
    for (size_t r = 0; r < 3; r++) {
        const json_t *row = json_array_get(m, r);
        if (!json_is_array(row) || json_array_size(row) != 3) {
            buf_append_str(err, "perspective_transform is not a 3x3 array");
            return -1;
        }
        for (size_t c = 0; c < 3; c++) {
            const json_t *v = json_array_get(row, c);
            if (!json_is_number(v)) {
                buf_printf(err,
                           "perspective_transform[%zu][%zu] is not a "
                           "number",
                           r, c);
                return -1;
            }
            H->h[r][c] = json_number_value(v);
        }
    }
    if (!homography_valid(H)) {
        buf_append_str(err, "perspective_transform is singular or not "
                            "finite");
        return -1;
    }
    return 0;
}

wall *wall_new(long id, const char *name, const char *svg, size_t svg_len,
               const json_t *perspective_transform,
               double hand_extension_percent, buf *err)
{
    wall *w = xcalloc(1, sizeof(*w));
    w->id = id;
    w->name = xstrdup(name ? name : "");
    w->refs = 1;
    if (!isfinite(hand_extension_percent) || hand_extension_percent < 0 ||
        hand_extension_percent > 1000) {
        buf_printf(err, "hand_extension_percent %g is out of range",
                   hand_extension_percent);
        goto fail;
    }
    w->hand_extension_percent = hand_extension_percent;
    if (read_matrix(perspective_transform, &w->calibration, err) < 0)
        goto fail;
    if (svg_wall_parse(svg, svg_len, &w->svg, err) < 0)
        goto fail;
    hold_index_build(&w->index, &w->svg);
    return w;
fail:
    free(w->name);
    free(w);
    return NULL;
}

wall *wall_ref(wall *w)
{
    w->refs++;
    return w;
}

void wall_unref(wall *w)
{
    if (!w || --w->refs > 0)
        return;
    hold_index_free(&w->index);
    svg_wall_free(&w->svg);
    free(w->name);
    free(w);
}

session_hold_type route_type_from_id(const char *id)
{
    if (strncmp(id, "start_", 6) == 0)
        return SESSION_HOLD_START;
    if (strncmp(id, "finish_", 7) == 0)
        return SESSION_HOLD_FINISH;
    return SESSION_HOLD_NORMAL;
}

const char *route_type_name(session_hold_type t)
{
    switch (t) {
    case SESSION_HOLD_START:
        return "start";
    case SESSION_HOLD_FINISH:
        return "finish";
    case SESSION_HOLD_NORMAL:
        break;
    }
    return "normal";
}

static int read_hold(const json_t *h, size_t i, route_hold *out, buf *err)
{
    const json_t *id = json_object_get(h, "id");
    if (!json_is_object(h) || !json_is_string(id) ||
        json_string_length(id) == 0) {
        buf_printf(err, "route hold %zu has no string id", i);
        return -1;
    }
    const json_t *type = json_object_get(h, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : NULL;
    if (!type || json_is_null(type))
        /* No type in the route: the id's start_/finish_ prefix says. */
        out->type = route_type_from_id(json_string_value(id));
    else if (t && strcmp(t, "start") == 0)
        out->type = SESSION_HOLD_START;
    else if (t && strcmp(t, "finish") == 0)
        out->type = SESSION_HOLD_FINISH;
    else if (t && strcmp(t, "normal") == 0)
        out->type = SESSION_HOLD_NORMAL;
    else {
        buf_printf(err,
                   "route hold '%s' has type %s%s%s, not start, normal "
                   "or finish",
                   json_string_value(id), t ? "'" : "",
                   t ? t : "(not a string)", t ? "'" : "");
        return -1;
    }
    out->id = xstrdup(json_string_value(id));
    return 0;
}

int route_from_json(const json_t *data, long id, const char *name, route *out,
                    buf *err)
{
    memset(out, 0, sizeof(*out));
    const json_t *problem = json_object_get(data, "problem");
    if (json_is_object(problem) && !json_object_get(data, "holds"))
        data = problem;
    const json_t *holds = json_object_get(data, "holds");
    if (!json_is_object(data) || !json_is_array(holds)) {
        buf_append_str(err, "route data has no \"holds\" array");
        return -1;
    }
    size_t n = json_array_size(holds);
    if (n > ROUTE_MAX_HOLDS) {
        buf_printf(err, "route lists %zu holds, more than %d", n,
                   ROUTE_MAX_HOLDS);
        return -1;
    }
    out->id = id;
    out->name = xstrdup(name ? name : "");
    out->holds = xcalloc(n ? n : 1, sizeof(route_hold));
    for (size_t i = 0; i < n; i++) {
        if (read_hold(json_array_get(holds, i), i, &out->holds[i], err) < 0) {
            route_free(out);
            return -1;
        }
        out->nholds++;
    }
    return 0;
}

void route_free(route *r)
{
    for (size_t i = 0; i < r->nholds; i++)
        free(r->holds[i].id);
    free(r->holds);
    free(r->name);
    memset(r, 0, sizeof(*r));
}
