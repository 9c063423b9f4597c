/* wall: what the tracker needs of a wall and a route, whichever store
 * they came from: the hold geometry with its index, the calibration, and
 * the route's holds in order with their types. */
#ifndef POSETRACKD_WALL_H
#define POSETRACKD_WALL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "hold_index.h"
#include "homography.h"
#include "session.h"
#include "svg_wall.h"

/* A wall file or SVG larger than this is not a climbing wall. */
#define WALL_MAX_FILE_BYTES (16u * 1024 * 1024)
/* Holds one route may list: a wall has a few hundred. */
#define ROUTE_MAX_HOLDS 10000

/* Shared by every tracker on the wall: reference counted, freed by the
 * last wall_unref(). Read-only once built. */
typedef struct wall {
    long id;
    char *name;
    svg_wall svg;
    hold_index index;
    homography calibration;
    double hand_extension_percent;
    unsigned refs;
} wall;

typedef struct route_hold {
    char *id;
    session_hold_type type;
} route_hold;

/* Owned by whoever holds it; route_free() releases it. */
typedef struct route {
    long id; /* 0 for route_data given with the task */
    char *name;
    route_hold *holds;
    size_t nholds;
} route;

/* Builds a wall from its SVG text and calibration (a 3x3 JSON array).
 * Returns a wall with one reference, or NULL with err set. */
wall *wall_new(long id, const char *name, const char *svg, size_t svg_len,
               const json_t *perspective_transform,
               double hand_extension_percent, buf *err);
wall *wall_ref(wall *w);
void wall_unref(wall *w);

/* Reads route data, `{"holds": [...]}` or `{"problem": {"holds": [...]}}`,
 * each hold `{"id": "hold_12", "type": "start" | "normal" | "finish"}`.
 * Returns 0, or -1 with err naming the problem. */
int route_from_json(const json_t *data, long id, const char *name, route *out,
                    buf *err);
void route_free(route *r);
/* The type a hold has without a route: from its id's start_/finish_
 * prefix, else normal. */
session_hold_type route_type_from_id(const char *id);
const char *route_type_name(session_hold_type t);

#endif
