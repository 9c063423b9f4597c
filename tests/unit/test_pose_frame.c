/* Unit tests for pose frames: the accepted shapes and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "pose_frame.h"

/* A frame with n landmarks under key, landmark i at (i/100, i/50). */
static void make_frame(buf *b, const char *key, int n, const char *extra)
{
    buf_printf(b,
               "{\"type\": \"pose\", \"timestamp\": 1763644517219, "
               "\"width\": 480, \"height\": 640%s, \"%s\": [",
               extra, key);
    for (int i = 0; i < n; i++)
        buf_printf(b,
                   "%s{\"x\": %g, \"y\": %g, \"z\": -0.5, \"visibility\": "
                   "0.99}",
                   i ? ", " : "", i / 100.0, i / 50.0);
    buf_append_str(b, "]}");
}

static pose_frame_status parse(const char *s, pose_frame *f)
{
    return pose_frame_parse(s, strlen(s), f);
}

static void accepts_every_landmark_key(void **state)
{
    (void)state;
    const char *keys[] = {"landmarks", "pose", "data"};
    for (int k = 0; k < 3; k++) {
        buf b;
        buf_init(&b);
        make_frame(&b, keys[k], 33, "");
        pose_frame f;
        assert_int_equal(pose_frame_parse(b.data, b.len, &f), POSE_FRAME_OK);
        assert_true(f.has_timestamp && f.timestamp_ms == 1763644517219.0);
        assert_int_equal(f.width, 480);
        assert_int_equal(f.height, 640);
        assert_true(fabs(f.pose.lm[32].x - 0.32) < 1e-12);
        assert_true(fabs(f.pose.lm[32].y - 0.64) < 1e-12);
        assert_true(f.pose.lm[32].z == -0.5);
        assert_true(f.pose.lm[0].visibility == 0.99);
        buf_free(&b);
    }
}

static void rejects_with_a_reason(void **state)
{
    (void)state;
    pose_frame f;
    buf b;
    buf_init(&b);
    make_frame(&b, "landmarks", 32, "");
    assert_int_equal(pose_frame_parse(b.data, b.len, &f), POSE_FRAME_BAD_COUNT);
    buf_reset(&b);
    make_frame(&b, "landmarks", 34, "");
    assert_int_equal(pose_frame_parse(b.data, b.len, &f), POSE_FRAME_BAD_COUNT);
    buf_reset(&b);
    make_frame(&b, "other", 33, "");
    assert_int_equal(pose_frame_parse(b.data, b.len, &f),
                     POSE_FRAME_NO_LANDMARKS);
    buf_free(&b);
    assert_int_equal(parse("{\"type\": \"hello\"}", &f), POSE_FRAME_NOT_POSE);
    assert_int_equal(parse("[1, 2]", &f), POSE_FRAME_NOT_POSE);
    assert_int_equal(parse("{\"type\": \"pose\"", &f), POSE_FRAME_NOT_JSON);
    assert_int_equal(parse("{\"landmarks\": [{\"x\": 1}]}", &f),
                     POSE_FRAME_BAD_LANDMARK);
    assert_int_equal(parse("{\"landmarks\": [{\"x\": \"1\", \"y\": 2}]}", &f),
                     POSE_FRAME_BAD_LANDMARK);
    assert_int_equal(parse("{\"landmarks\": [{\"x\": 1e999, \"y\": 2}]}", &f),
                     POSE_FRAME_BAD_LANDMARK);
    assert_int_equal(parse("{\"landmarks\": [5]}", &f),
                     POSE_FRAME_BAD_LANDMARK);
    assert_int_equal(parse("{\"timestamp\": \"now\", \"landmarks\": []}", &f),
                     POSE_FRAME_BAD_TIMESTAMP);
    assert_int_equal(parse("{\"timestamp\": -5, \"landmarks\": []}", &f),
                     POSE_FRAME_BAD_TIMESTAMP);
    char big[POSE_FRAME_MAX_BYTES + 2];
    memset(big, ' ', sizeof(big));
    assert_int_equal(pose_frame_parse(big, sizeof(big), &f),
                     POSE_FRAME_TOO_LARGE);
    assert_string_equal(pose_frame_status_name(POSE_FRAME_BAD_COUNT),
                        "bad_count");
}

static void defaults_for_missing_optional_fields(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    buf_append_str(&b, "{\"landmarks\": [");
    for (int i = 0; i < 33; i++)
        buf_printf(&b, "%s{\"x\": 0.5, \"y\": 0.5}", i ? ", " : "");
    buf_append_str(&b, "]}");
    pose_frame f;
    assert_int_equal(pose_frame_parse(b.data, b.len, &f), POSE_FRAME_OK);
    assert_false(f.has_timestamp);
    assert_true(f.pose.lm[3].z == 0 && f.pose.lm[3].visibility == 1);
    buf_free(&b);
}

/* The fast number reader rounds exactly as strtod does. */
static void numbers_convert_exactly(void **state)
{
    (void)state;
    static const char *const nums[] = {
        "0.4254626929759979",
        "0.552604615688324",
        "1e-7",
        "-0.0",
        "12345678901234567890",
        "0.30000000000000004",
        "9007199254740993",
        "1.7976931348623157e308",
        "4.9e-324",
        "123456.789e-3",
        "0.1",
        "2.2250738585072014e-308",
        "0.00000000000000000000000000001234",
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        buf b;
        buf_init(&b);
        buf_append_str(&b, "{\"landmarks\": [");
        for (int k = 0; k < POSE_BODY_LANDMARKS; k++)
            buf_printf(&b, "%s{\"x\": %s, \"y\": 0}", k ? "," : "", nums[i]);
        buf_append_str(&b, "]}");
        pose_frame f;
        double want = strtod(nums[i], NULL);
        if (fabs(want) > POSE_FRAME_MAX_COORD) {
            assert_int_equal(pose_frame_parse(b.data, b.len, &f),
                             POSE_FRAME_BAD_LANDMARK);
        } else {
            assert_int_equal(pose_frame_parse(b.data, b.len, &f),
                             POSE_FRAME_OK);
            assert_memory_equal(&want, &f.pose.lm[7].x, sizeof(double));
        }
        buf_free(&b);
    }
}

/* Many random 15- to 19-digit numbers with exponents, the ones the fast
 * paths take, against strtod, bit for bit. */
static void random_numbers_convert_exactly(void **state)
{
    (void)state;
    uint64_t r = 88172645463325252u;
    char frame[64 * 1024];
    for (int trial = 0; trial < 3000; trial++) {
        char nums[POSE_BODY_LANDMARKS][48];
        size_t len = (size_t)snprintf(frame, sizeof(frame), "{\"landmarks\":[");
        for (int k = 0; k < POSE_BODY_LANDMARKS; k++) {
            char digits[24];
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            int nd = 15 + (int)(r % 5);
            for (int i = 0; i < nd; i++) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                digits[i] = (char)('0' + r % 10);
            }
            digits[0] = digits[0] == '0' ? '7' : digits[0];
            digits[nd] = '\0';
            /* Below 1 in magnitude, as coordinates are. */
            int e = -(nd + (int)(r % 12));
            snprintf(nums[k], sizeof(nums[k]), (r >> 8) % 2 ? "0.%s" : "%se%d",
                     digits, e);
            /* Odd trials in MediaPipe's exact layout (its own fast
             * reader), even ones in another. */
            len += (size_t)snprintf(
                frame + len, sizeof(frame) - len,
                trial % 2 ? "%s{\"x\":%s,\"y\":-%s,\"z\":%s,\"visibility\":1}"
                          : "%s{\"x\":%s,\"y\":0}",
                k ? "," : "", nums[k], nums[k], nums[k]);
        }
        len += (size_t)snprintf(frame + len, sizeof(frame) - len, "]}");
        pose_frame f;
        pose_frame_status st = pose_frame_parse(frame, len, &f);
        for (int k = 0; k < POSE_BODY_LANDMARKS && st == POSE_FRAME_OK; k++) {
            double want = strtod(nums[k], NULL);
            if (memcmp(&want, &f.pose.lm[k].x, sizeof(double)) != 0)
                fail_msg("%s: %.17g, not %.17g", nums[k], f.pose.lm[k].x, want);
            double neg = -want;
            if (trial % 2 && memcmp(&neg, &f.pose.lm[k].y, sizeof(double)))
                fail_msg("-%s: %.17g", nums[k], f.pose.lm[k].y);
        }
        if (st != POSE_FRAME_OK)
            fail_msg("status %d", st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_every_landmark_key),
        cmocka_unit_test(rejects_with_a_reason),
        cmocka_unit_test(numbers_convert_exactly),
        cmocka_unit_test(random_numbers_convert_exactly),
        cmocka_unit_test(defaults_for_missing_optional_fields),
    };
    return cmocka_run_group_tests_name("pose_frame", tests, NULL, NULL);
}
