/* Unit tests for hold outlines: inside, near, far, holes, bounding box. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "outline.h"

static void square(outline *o, double x0, double y0, double size)
{
    outline_point p[4] = {
        {x0, y0}, {x0 + size, y0}, {x0 + size, y0 + size}, {x0, y0 + size}};
    outline_add_ring(o, p, 4);
}

static void inside_outside_and_near(void **state)
{
    (void)state;
    outline o;
    outline_init(&o);
    square(&o, 100, 100, 50);
    assert_true(outline_contains(&o, 125, 125));
    assert_false(outline_contains(&o, 99, 125));
    assert_true(fabs(outline_distance(&o, 90, 125) - 10) < 1e-12);
    /* a corner: distance is to the vertex */
    assert_true(fabs(outline_distance(&o, 97, 96) - 5) < 1e-12);
    assert_true(outline_touches(&o, 125, 125, 0));
    assert_true(outline_touches(&o, 90, 125, 10));
    assert_false(outline_touches(&o, 89.9, 125, 10));
    assert_false(outline_touches(&o, 1000, 1000, 50));
    assert_true(o.min_x == 100 && o.max_y == 150);
    outline_free(&o);
}

static void inner_rings_are_holes(void **state)
{
    (void)state;
    outline o;
    outline_init(&o);
    square(&o, 0, 0, 100);
    square(&o, 40, 40, 20);
    assert_true(outline_contains(&o, 20, 20));
    assert_false(outline_contains(&o, 50, 50));
    assert_true(outline_touches(&o, 50, 50, 10)); /* near the hole's edge */
    assert_false(outline_touches(&o, 50, 50, 5));
    outline_free(&o);
}

static void concave_shapes(void **state)
{
    (void)state;
    /* an L: the notch at the top right is outside */
    outline_point l[6] = {{0, 0}, {10, 0}, {10, 4}, {4, 4}, {4, 10}, {0, 10}};
    outline o;
    outline_init(&o);
    outline_add_ring(&o, l, 6);
    assert_true(outline_contains(&o, 2, 8));
    assert_true(outline_contains(&o, 8, 2));
    assert_false(outline_contains(&o, 8, 8));
    assert_true(fabs(outline_distance(&o, 8, 8) - 4) < 1e-12);
    outline_point degenerate[1] = {{1, 1}};
    outline_add_ring(&o, degenerate, 1); /* ignored */
    assert_int_equal(o.nrings, 1);
    outline_free(&o);
    outline_init(&o);
    assert_false(outline_touches(&o, 0, 0, 100)); /* no rings */
    outline_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inside_outside_and_near),
        cmocka_unit_test(inner_rings_are_holes),
        cmocka_unit_test(concave_shapes),
    };
    return cmocka_run_group_tests_name("outline", tests, NULL, NULL);
}
