/* posetrack-climb: writes a synthetic climb as JSON lines of MediaPipe
 * pose frames, for a wall, its calibration and a route from a wall store.
 *
 * The climber is built on the wall in millimetres, then every landmark is
 * mapped into the camera through the inverse calibration, so the tracker,
 * mapping back, sees the skeleton where it was drawn. Each hand is placed
 * so that the tracker's extended hand point (DESIGN §6.2) lands on the
 * centre of its hold. The hands go onto the start holds, then take the
 * route's holds in order, one hand at a time: a hand in motion is blurred
 * (visibility below any sensible threshold), so a hold's touch begins at
 * the first frame after the hand arrived, which --expect records.
 *
 *   posetrack-climb --wall-store DIR --wall ID --route ID [--fps 30]
 *       [--dwell 2.5] [--move 0.8] [--lead 1] [--noise 0.0005]
 *       [--miss 0.02] [--seed 1] [--start-ms MS] [--expect FILE] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homography.h"
#include "pose.h"
#include "tool_server.h"
#include "wall_store.h"

/* Body measurements, millimetres. */
#define HAND_WIDTH 80.0     /* |pinky - index| */
#define SHOULDER_DROP 380.0 /* shoulders below the lower hand */
#define SHOULDER_HALF 180.0
/* Visibility of a hand in motion: motion blur, below the default 0.2. */
#define BLUR_VISIBILITY 0.05

typedef struct vec {
    double x, y;
} vec;

typedef struct climb {
    wall *w;
    route r;
    homography to_camera;
    double fps, dwell, move, lead, noise, miss;
    uint64_t rng;
    double start_ms;
    unsigned long slot; /* frame slots so far, emitted or missed */
    FILE *expect;
    int first_expect;
    unsigned long frames;
} climb;

static climb C;

static double rnd(void)
{
    C.rng ^= C.rng << 13;
    C.rng ^= C.rng >> 7;
    C.rng ^= C.rng << 17;
    return (double)(C.rng >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    double u = rnd() + 1e-12, v = rnd();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static vec add(vec a, vec b)
{
    return (vec){a.x + b.x, a.y + b.y};
}
static vec sub(vec a, vec b)
{
    return (vec){a.x - b.x, a.y - b.y};
}
static vec mul(vec a, double k)
{
    return (vec){a.x * k, a.y * k};
}
static double len(vec a)
{
    return hypot(a.x, a.y);
}
static vec unit(vec a)
{
    double l = len(a);
    return l > 0 ? mul(a, 1 / l) : (vec){0, -1};
}

/* A point inside the hold: its bounding box centre if inside, else the
 * inside grid point nearest to it. */
static vec hold_centre(const svg_hold *h)
{
    const outline *o = &h->outline;
    vec c = {(o->min_x + o->max_x) / 2, (o->min_y + o->max_y) / 2};
    if (outline_contains(o, c.x, c.y))
        return c;
    vec best = c;
    double bd = INFINITY;
    for (int i = 0; i <= 20; i++)
        for (int j = 0; j <= 20; j++) {
            vec p = {o->min_x + (o->max_x - o->min_x) * i / 20,
                     o->min_y + (o->max_y - o->min_y) * j / 20};
            double d = len(sub(p, c));
            if (d < bd && outline_contains(o, p.x, p.y))
                bd = d, best = p;
        }
    return best;
}

static void put(pose *p, int i, vec mm, double vis)
{
    const svg_wall *s = &C.w->svg;
    p->lm[i].x = (mm.x - s->x) / s->width;
    p->lm[i].y = (mm.y - s->y) / s->height;
    p->lm[i].z = -0.1 + 0.02 * gauss();
    p->lm[i].visibility = vis;
}

/* Wrist, pinky, index and thumb around the palm so that their mean is the
 * palm, |pinky - index| is HAND_WIDTH, and the extended point (palm plus
 * the elbow-to-palm direction times the extension) is target. */
static void put_hand(pose *p, int left, vec target, vec elbow, double vis)
{
    double ext = HAND_WIDTH * C.w->hand_extension_percent / 100;
    vec dir = unit(sub(target, elbow));
    vec palm = sub(target, mul(dir, ext));
    vec perp = {-dir.y, dir.x};
    int base = left ? 0 : 1;
    put(p, POSE_LEFT_WRIST + base, add(palm, mul(dir, -60)), vis);
    put(p, POSE_LEFT_PINKY + base,
        add(palm, add(mul(dir, 30), mul(perp, HAND_WIDTH / 2 + 20))), vis);
    put(p, POSE_LEFT_INDEX + base,
        add(palm, add(mul(dir, 30), mul(perp, -HAND_WIDTH / 2 + 20))), vis);
    put(p, POSE_LEFT_THUMB + base, add(palm, mul(perp, -40)), vis);
    put(p, POSE_LEFT_ELBOW + base, elbow, 0.95);
}

/* The whole body hanging from two hand points. */
static void build(pose *p, vec tl, vec tr, double vis_l, double vis_r)
{
    memset(p, 0, sizeof(*p));
    vec s = {(tl.x + tr.x) / 2, fmax(tl.y, tr.y) + SHOULDER_DROP};
    vec ls = {s.x - SHOULDER_HALF, s.y}, rs = {s.x + SHOULDER_HALF, s.y};
    vec el = add(mul(add(ls, tl), 0.5), (vec){-70, 40});
    vec er = add(mul(add(rs, tr), 0.5), (vec){70, 40});
    put(p, 11, ls, 0.99);
    put(p, 12, rs, 0.99);
    put_hand(p, 1, tl, el, vis_l);
    put_hand(p, 0, tr, er, vis_r);
    vec nose = {s.x, s.y - 230};
    put(p, 0, nose, 0.99);
    for (int k = 0; k < 3; k++) {
        put(p, 1 + k, add(nose, (vec){-15 - 15 * k, -30}), 0.98);
        put(p, 4 + k, add(nose, (vec){15 + 15 * k, -30}), 0.98);
    }
    put(p, 7, add(nose, (vec){-75, -10}), 0.9);
    put(p, 8, add(nose, (vec){75, -10}), 0.9);
    put(p, 9, add(nose, (vec){-25, 35}), 0.97);
    put(p, 10, add(nose, (vec){25, 35}), 0.97);
    for (int side = 0; side < 2; side++) {
        double sx = side ? 1 : -1;
        vec hip = {s.x + sx * 130, s.y + 520};
        vec knee = add(hip, (vec){sx * 60, 420});
        vec ankle = add(knee, (vec){sx * 10, 400});
        put(p, 23 + side, hip, 0.97);
        put(p, 25 + side, knee, 0.9);
        put(p, 27 + side, ankle, 0.85);
        put(p, 29 + side, add(ankle, (vec){-sx * 10, 40}), 0.8);
        put(p, 31 + side, add(ankle, (vec){sx * 30, 60}), 0.8);
    }
}

/* Whole milliseconds, so the frames and --expect agree exactly. */
static double slot_ms(unsigned long slot)
{
    return C.start_ms + floor(slot * 1000.0 / C.fps + 0.5);
}

static void emit(const pose *p)
{
    double t = slot_ms(C.slot++);
    if (C.miss > 0 && rnd() < C.miss)
        return;
    printf("{\"type\":\"pose\",\"timestamp\":%.0f,\"width\":480,\"height\":"
           "640,\"landmarks\":[",
           t);
    for (int i = 0; i < POSE_BODY_LANDMARKS; i++) {
        double x, y;
        const pose_landmark *l = &p->lm[i];
        if (homography_apply(&C.to_camera, l->x, l->y, &x, &y) < 0)
            x = y = 0;
        x += C.noise * gauss();
        y += C.noise * gauss();
        printf("%s{\"x\":%.16g,\"y\":%.16g,\"z\":%.16g,\"visibility\":%.16g}",
               i ? "," : "", x, y, l->z, l->visibility);
    }
    printf("]}\n");
    C.frames++;
}

/* Records the first frame that sees a hand at rest on hold id. */
static void expect_touch(const char *id, double at_ms)
{
    if (!C.expect)
        return;
    fprintf(C.expect, "%s\"%s\":%.0f", C.first_expect ? "" : ",", id, at_ms);
    C.first_expect = 0;
}

/* Frames for `seconds`, hand points interpolated from a to b. */
static void segment(vec la, vec lb, vec ra, vec rb, double seconds, int moving)
{
    int n = (int)llround(seconds * C.fps);
    for (int i = 0; i < n; i++) {
        double k = n > 1 ? (double)(i + 1) / n : 1;
        vec l = add(la, mul(sub(lb, la), k)), r = add(ra, mul(sub(rb, ra), k));
        pose p;
        build(&p, l, r, moving & 1 ? BLUR_VISIBILITY : 0.97,
              moving & 2 ? BLUR_VISIBILITY : 0.97);
        emit(&p);
    }
}

/* The first frame time from now on that is really emitted is not known
 * until it is; a rest segment reports its own first emitted frame. */
static void rest(vec l, vec r, double seconds, const char *id_a,
                 const char *id_b)
{
    unsigned long before = C.frames;
    int n = (int)llround(seconds * C.fps);
    for (int i = 0; i < n; i++) {
        double t = slot_ms(C.slot);
        pose p;
        build(&p, l, r, 0.97, 0.97);
        emit(&p);
        if (C.frames > before) {
            if (id_a)
                expect_touch(id_a, t);
            if (id_b)
                expect_touch(id_b, t);
            id_a = id_b = NULL;
        }
    }
}

static vec route_point(size_t i, const char **id)
{
    *id = C.r.holds[i].id;
    long k = svg_wall_find(&C.w->svg, *id, strlen(*id));
    return hold_centre(&C.w->svg.holds[k]);
}

static void climb_route(void)
{
    size_t n = C.r.nholds, i = 0;
    const char *id_l, *id_r;
    vec l = route_point(0, &id_l), r = l;
    id_r = id_l;
    i = 1;
    if (n > 1 && C.r.holds[1].type == SESSION_HOLD_START) {
        r = route_point(1, &id_r);
        i = 2;
    }
    const svg_wall *s = &C.w->svg;
    vec floor_l = {l.x - 150, s->y + s->height * 0.98};
    vec floor_r = {r.x + 150, s->y + s->height * 0.98};
    segment(floor_l, floor_l, floor_r, floor_r, C.lead, 3);
    segment(floor_l, l, floor_r, r, C.move, 3);
    rest(l, r, C.dwell, id_l, id_r == id_l ? NULL : id_r);
    int left_moves = l.y >= r.y;
    for (; i < n; i++) {
        const char *id;
        vec t = route_point(i, &id);
        if (left_moves) {
            segment(l, t, r, r, C.move, 1);
            l = t;
        } else {
            segment(l, l, r, t, C.move, 2);
            r = t;
        }
        rest(l, r, C.dwell, id, NULL);
        left_moves = !left_moves;
    }
    rest(l, r, 1.0, NULL, NULL);
}

static int check_route(void)
{
    if (C.r.nholds == 0) {
        fprintf(stderr, "posetrack-climb: the route has no holds\n");
        return -1;
    }
    for (size_t i = 0; i < C.r.nholds; i++)
        if (svg_wall_find(&C.w->svg, C.r.holds[i].id, strlen(C.r.holds[i].id)) <
            0) {
            fprintf(stderr, "posetrack-climb: hold '%s' is not on the wall\n",
                    C.r.holds[i].id);
            return -1;
        }
    return 0;
}

static void got_wall(void *data, wall *w, wall_store_status st, const char *err)
{
    (void)st;
    (void)data;
    if (!w)
        fprintf(stderr, "posetrack-climb: %s\n", err);
    C.w = w;
}

static void got_route(void *data, route *r, wall_store_status st,
                      const char *err)
{
    (void)st;
    *(int *)data = r != NULL;
    if (!r) {
        fprintf(stderr, "posetrack-climb: %s\n", err);
        return;
    }
    C.r = *r;
    free(r);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: posetrack-climb --wall-store DIR --wall ID --route ID\n"
            "         [--fps 30] [--dwell 2.5] [--move 0.8] [--lead 1]\n"
            "         [--noise 0.0005] [--miss 0.02] [--seed 1]\n"
            "         [--start-ms MS] [--expect FILE]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *expect = NULL, *v;
    long wall_id = 0, route_id = 0;
    C.fps = 30, C.dwell = 2.5, C.move = 0.8, C.lead = 1, C.noise = 0.0005;
    C.miss = 0.02, C.rng = 1, C.start_ms = floor(tool_now_ms());
    C.first_expect = 1;
    for (int i = 1; i < argc; i++) {
        if ((v = tool_opt(argc, argv, &i, "--wall-store")))
            dir = v;
        else if ((v = tool_opt(argc, argv, &i, "--wall")))
            wall_id = atol(v);
        else if ((v = tool_opt(argc, argv, &i, "--route")))
            route_id = atol(v);
        else if ((v = tool_opt(argc, argv, &i, "--fps")))
            C.fps = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--dwell")))
            C.dwell = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--move")))
            C.move = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--lead")))
            C.lead = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--noise")))
            C.noise = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--miss")))
            C.miss = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--seed")))
            C.rng = strtoull(v, NULL, 10) * 2654435761u + 1;
        else if ((v = tool_opt(argc, argv, &i, "--start-ms")))
            C.start_ms = floor(atof(v));
        else if ((v = tool_opt(argc, argv, &i, "--expect")))
            expect = v;
        else
            usage();
    }
    if (!dir || wall_id <= 0 || route_id <= 0 || !(C.fps > 0) || C.dwell < 0 ||
        C.move < 0 || C.lead < 0 || C.miss < 0 || C.miss >= 1)
        usage();
    wall_store *store = wall_store_file_open(dir);
    int have_route = 0;
    wall_store_get_wall(store, wall_id, got_wall, NULL);
    if (C.w)
        wall_store_get_route(store, route_id, got_route, &have_route);
    if (!C.w || !have_route || check_route() < 0 ||
        homography_invert(&C.w->calibration, &C.to_camera) < 0)
        return 1;
    if (expect && !(C.expect = fopen(expect, "w"))) {
        perror(expect);
        return 1;
    }
    if (C.expect)
        fprintf(C.expect, "{\"first_ms\":%.0f,\"touch_start_ms\":{",
                C.start_ms);
    climb_route();
    if (C.expect) {
        fprintf(C.expect, "},\"frames\":%lu,\"end_ms\":%.0f}\n", C.frames,
                slot_ms(C.slot));
        fclose(C.expect);
    }
    route_free(&C.r);
    wall_unref(C.w);
    wall_store_close(store);
    return 0;
}
