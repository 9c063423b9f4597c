/* Unit tests for the tracker's compute core: the hold index against a
 * scan of every hold, session frames against golden files, the flags, the
 * task's arguments with Python semantics, and the small codecs the core
 * writes with (decimals, millisecond times, inverse calibration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"
#include "tracker_args.h"
#include "tracker_core.h"

/* Unit tests run from the repository root (scripts/run-tests). */
#define GOLDEN_DIR "tests/unit/golden/"

static const char wall_svg[] =
    "<svg viewBox='0 0 1000 1000'>"
    "<circle class='hold' id='start_a' cx='200' cy='800' r='40'/>"
    "<rect class='hold' id='b' x='450' y='450' width='100' height='100'/>"
    "<path class='hold' id='finish_c' d='M 750 150 h 100 v 100 h -100 Z' "
    "style='fill:#0f0'/></svg>";

static wall *make_wall(void)
{
    json_t *H = json_loads("[[1,0,0],[0,1,0],[0,0,1]]", 0, NULL);
    buf err;
    buf_init(&err);
    wall *w = wall_new(1, "test", wall_svg, strlen(wall_svg), H, 20, &err);
    assert_non_null(w);
    json_decref(H);
    buf_free(&err);
    return w;
}

/* A frame whose extended hands land on (lx, ly) and (rx, ry), normalized:
 * each palm at the point, the fingers around it with no width, so the
 * extension is zero and the hand point is the palm. */
static void frame(buf *b, double ts_ms, double lx, double ly, double rx,
                  double ry, double vis)
{
    pose_landmark lm[POSE_BODY_LANDMARKS];
    for (int i = 0; i < POSE_BODY_LANDMARKS; i++)
        lm[i] = (pose_landmark){0.5, 0.5, -0.1, 0.9};
    for (int k = 0; k < 4; k++) {
        lm[POSE_LEFT_WRIST + 2 * k] = (pose_landmark){lx, ly, 0, vis};
        lm[POSE_RIGHT_WRIST + 2 * k] = (pose_landmark){rx, ry, 0, vis};
    }
    lm[POSE_LEFT_ELBOW] = (pose_landmark){lx, ly + 0.1, 0, 0.9};
    lm[POSE_RIGHT_ELBOW] = (pose_landmark){rx, ry + 0.1, 0, 0.9};
    buf_reset(b);
    buf_printf(b, "{\"type\":\"pose\",\"timestamp\":%.0f,\"landmarks\":[",
               ts_ms);
    for (int i = 0; i < POSE_BODY_LANDMARKS; i++)
        buf_printf(b, "%s{\"x\":%g,\"y\":%g,\"z\":%g,\"visibility\":%g}",
                   i ? "," : "", lm[i].x, lm[i].y, lm[i].z, lm[i].visibility);
    buf_append_str(b, "]}");
}

static const tracker_params defaults = {50, 2.0, 0.2, 0, 0};

static void run(tracker_core *t, double ts_ms, double lx, double ly, double rx,
                double ry, buf *out)
{
    buf f;
    buf_init(&f);
    frame(&f, ts_ms, lx, ly, rx, ry, 0.9);
    buf_reset(out);
    assert_int_equal(tracker_core_frame(t, f.data, f.len, 0, out),
                     POSE_FRAME_OK);
    buf_free(&f);
}

static void assert_golden(const char *name, const buf *out)
{
    char path[256];
    snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
    /* PT_GOLDEN_WRITE=1 rewrites the files; review the diff before
     * committing it. */
    if (getenv("PT_GOLDEN_WRITE")) {
        FILE *w = fopen(path, "wb");
        assert_non_null(w);
        fprintf(w, "%s\n", out->data);
        fclose(w);
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s missing; this run wrote:\n%s", path, out->data);
    char want[65536];
    size_t n = fread(want, 1, sizeof(want) - 1, f);
    fclose(f);
    while (n > 0 && want[n - 1] == '\n')
        n--;
    want[n] = '\0';
    if (strcmp(want, out->data) != 0)
        fail_msg("%s differs; this run wrote:\n%s", path, out->data);
}

static void index_finds_what_a_scan_of_every_hold_finds(void **st)
{
    (void)st;
    wall *w = make_wall();
    uint64_t seed = 42;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        double x = (double)(seed >> 40) / (1 << 24) * 1200 - 100;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        double y = (double)(seed >> 40) / (1 << 24) * 1200 - 100;
        double th = (i % 4) * 30.0;
        unsigned char want[3] = {0}, got[3] = {0};
        for (int h = 0; h < 3; h++)
            want[h] = (unsigned char)outline_touches(&w->svg.holds[h].outline,
                                                     x, y, th);
        struct q {
            wall *w;
            double x, y, th;
            unsigned char *got;
        } q = {w, x, y, th, got};
        void visit(void *d, uint32_t h);
        hold_index_query(&w->index, x, y, th, visit, &q);
        assert_memory_equal(want, got, 3);
    }
    wall_unref(w);
}

/* The index visitor of the test above. */
void visit(void *d, uint32_t h)
{
    struct q {
        wall *w;
        double x, y, th;
        unsigned char *got;
    } *q = d;
    if (outline_touches(&q->w->svg.holds[h].outline, q->x, q->y, q->th))
        q->got[h] = 1;
}

static void a_climb_matches_the_golden_session_frames(void **st)
{
    (void)st;
    tracker_core t;
    buf out;
    buf_init(&out);
    tracker_core_init(&t, make_wall(), NULL, &defaults, 1800000000.0);
    /* Left hand on start_a (200, 800), right hand in the air. */
    run(&t, 1800000001000, 0.2, 0.8, 0.1, 0.1, &out);
    assert_golden("frame_first.json", &out);
    run(&t, 1800000003000, 0.2, 0.8, 0.1, 0.1, &out);
    /* Right hand on finish_c from 3.5 s: touched at 5.5 s, completing. */
    run(&t, 1800000003500, 0.2, 0.8, 0.8, 0.2, &out);
    run(&t, 1800000005500, 0.2, 0.8, 0.8, 0.2, &out);
    t.params.no_stream_landmarks = 1;
    buf_reset(&out);
    tracker_core_output(&t, &out);
    assert_golden("frame_completed.json", &out);
    t.params.stream_svg_only = 1;
    buf_reset(&out);
    tracker_core_output(&t, &out);
    assert_golden("frame_svg_only.json", &out);
    assert_int_equal(t.session.status, SESSION_COMPLETED);
    tracker_core_free(&t);
    buf_free(&out);
}

static void route_order_and_types_win_over_document_and_prefixes(void **st)
{
    (void)st;
    json_t *data = json_loads("{\"problem\": {\"holds\": [{\"id\": \"b\", "
                              "\"type\": \"finish\"}, {\"id\": \"start_a\"}, "
                              "{\"id\": \"ghost\", \"type\": \"start\"}]}}",
                              0, NULL);
    route r;
    buf err, out;
    buf_init(&err);
    buf_init(&out);
    assert_int_equal(route_from_json(data, 7, "r", &r, &err), 0);
    tracker_core t;
    tracker_core_init(&t, make_wall(), &r, &defaults, 1800000000.0);
    run(&t, 1800000001000, 0.5, 0.5, 0.5, 0.5, &out);
    run(&t, 1800000003000, 0.5, 0.5, 0.5, 0.5, &out);
    /* b is the finish now: touching it completes; "ghost" is not on the
     * wall and is listed, never touched. */
    assert_non_null(strstr(out.data, "{\"id\":\"b\",\"type\":\"finish\","
                                     "\"status\":\"touched\","
                                     "\"time\":\"2027-01-15T08:00:03.000Z\"}"));
    assert_non_null(strstr(out.data, "{\"id\":\"start_a\",\"type\":\"start\""));
    assert_non_null(strstr(out.data, "\"id\":\"ghost\",\"type\":\"start\","
                                     "\"status\":\"untouched\""));
    assert_non_null(strstr(out.data, "\"status\":\"completed\""));
    tracker_core_free(&t);
    json_decref(data);
    buf_free(&err);
    buf_free(&out);
}

static void hands_below_the_visibility_threshold_touch_nothing(void **st)
{
    (void)st;
    tracker_core t;
    buf f, out;
    buf_init(&f);
    buf_init(&out);
    tracker_core_init(&t, make_wall(), NULL, &defaults, 1800000000.0);
    for (int i = 0; i <= 3; i++) {
        frame(&f, 1800000001000 + i * 1000, 0.2, 0.8, 0.5, 0.5, 0.1);
        buf_reset(&out);
        tracker_core_frame(&t, f.data, f.len, 0, &out);
    }
    assert_null(strstr(out.data, "\"touched\""));
    /* Within the threshold of the rect's edge (450): 40 units away. */
    frame(&f, 1800000010000, 0.41, 0.5, 0.41, 0.5, 0.9);
    tracker_core_frame(&t, f.data, f.len, 0, &out);
    frame(&f, 1800000012000, 0.41, 0.5, 0.41, 0.5, 0.9);
    buf_reset(&out);
    tracker_core_frame(&t, f.data, f.len, 0, &out);
    assert_non_null(strstr(out.data, "\"id\":\"b\",\"type\":\"normal\","
                                     "\"status\":\"touched\""));
    assert_int_equal(tracker_core_frame(&t, "{}", 2, 0, &out),
                     POSE_FRAME_NO_LANDMARKS);
    assert_int_equal(tracker_core_rejected(&t), 1);
    tracker_core_free(&t);
    buf_free(&f);
    buf_free(&out);
}

static int parse_args(const char *args, const char *kwargs, tracker_args *a,
                      const char **exc, buf *err)
{
    json_span sa, sk;
    assert_true(json_span_whole(args, strlen(args), &sa));
    assert_true(json_span_whole(kwargs, strlen(kwargs), &sk));
    buf_reset(err);
    return tracker_args_parse(sa, sk, a, exc, err);
}

static void args_bind_like_python_with_the_defaults(void **st)
{
    (void)st;
    tracker_args a;
    const char *exc;
    buf err;
    buf_init(&err);
    assert_int_equal(parse_args("[]", "{}", &a, &exc, &err), 0);
    assert_int_equal(a.wall_id, 1);
    assert_string_equal(a.input_url, "ws://localhost:8001/ws/pose/");
    assert_string_equal(a.output_url, "ws://localhost:8002/ws/session/");
    assert_null(a.control_url);
    assert_true(a.params.proximity_threshold == 50 &&
                a.params.touch_duration == 2 && a.reconnect_delay == 5 &&
                a.params.visibility_threshold == 0.2);
    assert_false(a.debug || a.params.no_stream_landmarks ||
                 a.params.stream_svg_only || a.route_data || a.route_id);
    tracker_args_free(&a);
    assert_int_equal(parse_args("[7, \"wss://h:9/x\"]",
                                "{\"route_data\": \"{\\\"holds\\\": []}\", "
                                "\"touch_duration\": \"1.5\", \"debug\": true}",
                                &a, &exc, &err),
                     0);
    assert_int_equal(a.wall_id, 7);
    assert_string_equal(a.input_url, "wss://h:9/x");
    assert_true(tracker_args_url_ok("ws://[::1]:8001/ws/pose/"));
    assert_true(tracker_args_url_ok("ws://cam.local/ws?x=a:b"));
    assert_false(tracker_args_url_ok("ws://h:0/"));
    assert_true(a.params.touch_duration == 1.5 && a.debug);
    assert_true(json_is_object(a.route_data));
    tracker_args_free(&a);
    buf_free(&err);
}

static void bad_args_are_type_and_value_errors(void **st)
{
    (void)st;
    static const struct {
        const char *args, *kwargs, *exc, *msg;
    } cases[] = {
        {"[1]", "{\"wall_id\": 2}", "TypeError",
         "got multiple values for argument 'wall_id'"},
        {"[]", "{\"walls\": 2}", "TypeError", "unexpected keyword argument"},
        {"[]", "{\"wall_id\": 1.5}", "ValueError", "must be an integer"},
        {"[]", "{\"wall_id\": 0}", "ValueError", "wall_id must be >= 1"},
        {"[]", "{\"wall_id\": null}", "TypeError",
         "wall_id must be an int, not NoneType"},
        {"[]", "{\"reconnect_delay\": 0}", "ValueError",
         "reconnect_delay must be > 0"},
        {"[]", "{\"no_stream_landmarks\": 1}", "TypeError",
         "must be a bool, not int"},
        {"[]", "{\"control_websocket_url\": \"ws://+/x\"}", "ValueError",
         "ws:// or wss://"},
        {"[]", "{\"output_websocket_url\": 5}", "TypeError", "must be a str"},
        {"[]", "{\"input_websocket_url\": \"ws://h:99999/x\"}", "ValueError",
         "ws:// or wss://"},
        {"[]", "{\"input_websocket_url\": \"ws://h:port/x\"}", "ValueError",
         "ws:// or wss://"},
        {"[]", "{\"input_websocket_url\": \"ws://[::1/x\"}", "ValueError",
         "ws:// or wss://"},
        {"[]", "{\"route_data\": [1]}", "TypeError", "a str or dict, not list"},
        {"[]", "{\"route_data\": \"[1]\"}", "ValueError", "JSON object"},
    };
    buf err;
    buf_init(&err);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tracker_args a;
        const char *exc = NULL;
        assert_int_equal(
            parse_args(cases[i].args, cases[i].kwargs, &a, &exc, &err), -1);
        assert_string_equal(exc, cases[i].exc);
        if (!strstr(err.data, cases[i].msg))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.data,
                     cases[i].msg);
    }
    buf_free(&err);
}

static void decimals_times_and_the_inverse_calibration(void **st)
{
    (void)st;
    buf b;
    buf_init(&b);
    const double v[] = {0.5, -12, 0.1234567, -0.0000004, 1e12, 3};
    for (size_t i = 0; i < 6; i++) {
        buf_append_decimal(&b, v[i], 6);
        buf_append_char(&b, ' ');
    }
    assert_string_equal(b.data, "0.5 -12 0.123457 0 1000000000000 3 ");
    buf_reset(&b);
    isotime_format_ms(&b, 1800000003.7999999);
    assert_string_equal(b.data, "2027-01-15T08:00:03.800Z");
    buf_free(&b);
    homography H = {{{1.07, -0.23, -0.03},
                     {-0.02, 1.09, -0.09},
                     {0.03, -0.37, 1}}},
               inv;
    assert_int_equal(homography_invert(&H, &inv), 0);
    double x, y, bx, by;
    assert_int_equal(homography_apply(&H, 0.3, 0.6, &x, &y), 0);
    assert_int_equal(homography_apply(&inv, x, y, &bx, &by), 0);
    assert_true(fabs(bx - 0.3) < 1e-12 && fabs(by - 0.6) < 1e-12);
    homography zero = {{{0}}};
    assert_int_equal(homography_invert(&zero, &inv), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_finds_what_a_scan_of_every_hold_finds),
        cmocka_unit_test(a_climb_matches_the_golden_session_frames),
        cmocka_unit_test(route_order_and_types_win_over_document_and_prefixes),
        cmocka_unit_test(hands_below_the_visibility_threshold_touch_nothing),
        cmocka_unit_test(args_bind_like_python_with_the_defaults),
        cmocka_unit_test(bad_args_are_type_and_value_errors),
        cmocka_unit_test(decimals_times_and_the_inverse_calibration),
    };
    return cmocka_run_group_tests_name("tracker_core", tests, NULL, NULL);
}
