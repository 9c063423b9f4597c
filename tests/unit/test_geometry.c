/* Unit tests for the tracker's geometry: the homography and the extended
 * hands, against values computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "hands.h"
#include "homography.h"

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static const homography identity = {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};

static void identity_and_affine_maps(void **state)
{
    (void)state;
    double x, y;
    assert_int_equal(homography_apply(&identity, 0.25, 0.75, &x, &y), 0);
    assert_near(x, 0.25);
    assert_near(y, 0.75);
    /* scale x by 2, y by 0.5, then shift by (0.1, -0.2) */
    homography a = {{{2, 0, 0.1}, {0, 0.5, -0.2}, {0, 0, 1}}};
    assert_int_equal(homography_apply(&a, 0.5, 0.4, &x, &y), 0);
    assert_near(x, 1.1);
    assert_near(y, 0.0);
}

static void perspective_divides_by_w(void **state)
{
    (void)state;
    /* W = 0.5x + 1: at (1, 1): X = 1 + 2 = 3, Y = 1, W = 1.5 */
    homography p = {{{1, 2, 0}, {0, 1, 0}, {0.5, 0, 1}}};
    double x, y;
    assert_int_equal(homography_apply(&p, 1, 1, &x, &y), 0);
    assert_near(x, 2.0);
    assert_near(y, 1.0 / 1.5);
    /* W = 0 at x = -2: a point at infinity is refused */
    x = y = 42;
    assert_int_equal(homography_apply(&p, -2, 3, &x, &y), -1);
    assert_near(x, 42);
}

static void pose_landmarks_never_become_nan(void **state)
{
    (void)state;
    homography p = {{{1, 0, 0}, {0, 1, 0}, {1, 0, 0}}}; /* W = x */
    pose ps;
    memset(&ps, 0, sizeof(ps));
    for (int i = 0; i < POSE_BODY_LANDMARKS; i++) {
        ps.lm[i].x = i == 5 ? 0 : 0.5;
        ps.lm[i].y = 0.25;
        ps.lm[i].z = -0.1;
        ps.lm[i].visibility = 0.9;
    }
    ps.lm[6].x = NAN;
    homography_apply_pose(&p, &ps);
    assert_near(ps.lm[0].x, 1.0);
    assert_near(ps.lm[0].y, 0.5);
    assert_near(ps.lm[0].z, -0.1);
    assert_near(ps.lm[0].visibility, 0.9);
    for (int i = 5; i <= 6; i++) {
        assert_near(ps.lm[i].x, 0);
        assert_near(ps.lm[i].visibility, 0);
    }
    homography bad = {{{NAN, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
    homography flat = {{{1, 1, 0}, {1, 1, 0}, {0, 0, 1}}};
    assert_true(homography_valid(&identity));
    assert_false(homography_valid(&bad));
    assert_false(homography_valid(&flat));
}

static void set(pose *p, int i, double x, double y, double z, double v)
{
    p->lm[i] = (pose_landmark){x, y, z, v};
}

static void hands_extend_along_the_forearm(void **state)
{
    (void)state;
    pose p;
    memset(&p, 0, sizeof(p));
    /* Left arm along +x: elbow at the origin; palm = mean of wrist (1,0),
     * pinky (1.2,-0.1), index (1.2,0.1), thumb (1.0,0.2) = (1.1, 0.05).
     * |pinky - index| = 0.2; 20 % of it = 0.04 along unit(palm - elbow). */
    set(&p, POSE_LEFT_ELBOW, 0, 0, 0, 1);
    set(&p, POSE_LEFT_WRIST, 1.0, 0.0, 0, 0.9);
    set(&p, POSE_LEFT_PINKY, 1.2, -0.1, 0, 0.8);
    set(&p, POSE_LEFT_INDEX, 1.2, 0.1, 0, 0.7);
    set(&p, POSE_LEFT_THUMB, 1.0, 0.2, 0, 0.95);
    hands_extend(&p, 20);
    double len = sqrt(1.1 * 1.1 + 0.05 * 0.05);
    assert_near(p.lm[POSE_LEFT_HAND].x, 1.1 + 1.1 / len * 0.04);
    assert_near(p.lm[POSE_LEFT_HAND].y, 0.05 + 0.05 / len * 0.04);
    assert_near(p.lm[POSE_LEFT_HAND].visibility, 0.7);
    /* The right arm has zero length: the point stays at the palm. */
    assert_near(p.lm[POSE_RIGHT_HAND].x, 0);
    assert_near(p.lm[POSE_RIGHT_HAND].visibility, 0);
}

static void hands_with_bad_landmarks_are_invisible(void **state)
{
    (void)state;
    pose p;
    memset(&p, 0, sizeof(p));
    set(&p, POSE_RIGHT_ELBOW, 0, 0, 0, 1);
    set(&p, POSE_RIGHT_WRIST, INFINITY, 0, 0, 1);
    set(&p, POSE_RIGHT_PINKY, 1, 0, 0, 1);
    set(&p, POSE_RIGHT_INDEX, 1, 0, 0, 1);
    set(&p, POSE_RIGHT_THUMB, 1, 0, 0, 1);
    hands_extend(&p, 20);
    assert_true(isfinite(p.lm[POSE_RIGHT_HAND].x));
    assert_near(p.lm[POSE_RIGHT_HAND].visibility, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_and_affine_maps),
        cmocka_unit_test(perspective_divides_by_w),
        cmocka_unit_test(pose_landmarks_never_become_nan),
        cmocka_unit_test(hands_extend_along_the_forearm),
        cmocka_unit_test(hands_with_bad_landmarks_are_invisible),
    };
    return cmocka_run_group_tests_name("geometry", tests, NULL, NULL);
}
