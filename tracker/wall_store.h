/* wall_store: where walls, calibrations and routes come from. The tracker
 * asks by id and is answered through a callback, so a store may read files
 * (wall_store_file) or query the Django database without blocking the
 * loop. A callback may run before the request returns. */
#ifndef POSETRACKD_WALL_STORE_H
#define POSETRACKD_WALL_STORE_H

#include "wall.h"

typedef struct wall_store wall_store;

/* What went wrong, so a caller can answer with the right exception
 * without reading the message. */
typedef enum wall_store_status {
    WALL_STORE_OK,
    WALL_STORE_NOT_FOUND,   /* no wall or route with that id */
    WALL_STORE_INVALID,     /* it exists but cannot be used: bad JSON, SVG,
                               calibration or route data */
    WALL_STORE_UNAVAILABLE, /* the store itself failed (I/O, database) */
} wall_store_status;

/* On success w is a reference the callback owns (wall_unref()); on failure
 * w is NULL, st says what kind of failure and err says why, naming the
 * wall. */
typedef void (*wall_store_wall_cb)(void *data, wall *w, wall_store_status st,
                                   const char *err);
/* On success r is the callback's to route_free(); NULL on failure. */
typedef void (*wall_store_route_cb)(void *data, route *r, wall_store_status st,
                                    const char *err);

typedef struct wall_store_ops {
    void (*get_wall)(wall_store *s, long id, wall_store_wall_cb cb, void *data);
    void (*get_route)(wall_store *s, long id, wall_store_route_cb cb,
                      void *data);
    void (*close)(wall_store *s);
} wall_store_ops;

struct wall_store {
    const wall_store_ops *ops;
};

static inline void wall_store_get_wall(wall_store *s, long id,
                                       wall_store_wall_cb cb, void *data)
{
    s->ops->get_wall(s, id, cb, data);
}

static inline void wall_store_get_route(wall_store *s, long id,
                                        wall_store_route_cb cb, void *data)
{
    s->ops->get_route(s, id, cb, data);
}

static inline void wall_store_close(wall_store *s)
{
    if (s)
        s->ops->close(s);
}

/* Files under dir: walls/<id>.json ({"name", "svg_file" relative to dir,
 * "perspective_transform", "hand_extension_percent"}) and
 * routes/<id>.json ({"name", "data": {"holds": [...]}}). Walls are parsed
 * once and shared while their files are unchanged. */
wall_store *wall_store_file_open(const char *dir);

#endif
