/* Unit tests for SVG path data: every command, relative forms, implicit
 * repeats, compact numbers, curve flattening accuracy, arcs, transforms
 * and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "svg_path.h"

#define TOL (SVG_PATH_TOLERANCE + 1e-9)

static int parse(const char *d, outline *o, const svg_matrix *m)
{
    buf err;
    buf_init(&err);
    outline_init(o);
    int rc = svg_path_parse(d, strlen(d), m, o, &err);
    if (rc)
        assert_non_null(strstr(err.data, "byte "));
    buf_free(&err);
    return rc;
}

static void lines_relative_and_implicit(void **state)
{
    (void)state;
    const char *squares[] = {"M 0 0 L 10 0 L 10 10 L 0 10 Z",
                             "m0,0 l10,0 0,10 -10,0z", "M0 0H10V10H0Z",
                             "M0 0 10 0 10 10 0 10", "m0 0h10v10h-10z"};
    for (size_t i = 0; i < 5; i++) {
        outline o;
        assert_int_equal(parse(squares[i], &o, NULL), 0);
        assert_int_equal(o.nrings, 1);
        assert_int_equal(o.rings[0].n, 4);
        assert_true(outline_contains(&o, 5, 5));
        assert_false(outline_contains(&o, 15, 5));
        assert_true(o.max_x == 10 && o.max_y == 10);
        outline_free(&o);
    }
}

static void compact_numbers(void **state)
{
    (void)state;
    outline o;
    assert_int_equal(parse("M0-0L10.5.5-3e1,2E+1", &o, NULL), 0);
    assert_int_equal(o.rings[0].n, 3);
    assert_true(o.rings[0].pts[1].x == 10.5 && o.rings[0].pts[1].y == 0.5);
    assert_true(o.rings[0].pts[2].x == -30 && o.rings[0].pts[2].y == 20);
    outline_free(&o);
}

/* Every flattened point of a cubic lies on it within the tolerance: check
 * the curve's known extreme. */
static void cubic_and_smooth_cubic(void **state)
{
    (void)state;
    outline o;
    assert_int_equal(parse("M0 0 C 0 100 100 100 100 0", &o, NULL), 0);
    assert_true(fabs(o.max_y - 75) <= TOL);
    assert_true(o.rings[0].pts[o.rings[0].n - 1].x == 100);
    outline_free(&o);
    assert_int_equal(parse("M0 0 C 0 10 10 10 10 0 S 20 -10 20 0", &o, NULL),
                     0);
    assert_true(fabs(o.max_y - 7.5) <= TOL);
    assert_true(fabs(o.min_y + 7.5) <= TOL);
    outline_free(&o);
    assert_int_equal(parse("M0 0 c 0 10 10 10 10 0 s 10 -10 10 0", &o, NULL),
                     0);
    assert_true(fabs(o.min_y + 7.5) <= TOL && o.max_x == 20);
    outline_free(&o);
}

static void quadratic_and_smooth_quadratic(void **state)
{
    (void)state;
    outline o;
    assert_int_equal(parse("M0 0 Q 5 10 10 0 T 20 0", &o, NULL), 0);
    assert_true(fabs(o.max_y - 5) <= TOL);
    assert_true(fabs(o.min_y + 5) <= TOL);
    outline_free(&o);
    assert_int_equal(parse("M0 0 q 5 10 10 0 t 10 0", &o, NULL), 0);
    assert_true(fabs(o.min_y + 5) <= TOL && o.max_x == 20);
    outline_free(&o);
}

static void arcs(void **state)
{
    (void)state;
    outline o;
    /* a half circle of radius 10 around (10, 0), sweeping through y < 0 */
    assert_int_equal(parse("M 0 0 A 10 10 0 0 1 20 0 Z", &o, NULL), 0);
    for (size_t i = 0; i < o.rings[0].n; i++) {
        double dx = o.rings[0].pts[i].x - 10, dy = o.rings[0].pts[i].y;
        assert_true(fabs(hypot(dx, dy) - 10) < 1e-9);
    }
    assert_true(fabs(o.min_y + 10) <= TOL);
    assert_true(o.max_y <= 1e-9);
    outline_free(&o);
    /* the other sweep goes through y > 0; flags written without spaces */
    assert_int_equal(parse("M0,0a10,10 0 0020,0", &o, NULL), 0);
    assert_true(fabs(o.max_y - 10) <= TOL);
    outline_free(&o);
    /* radii too small are scaled up to reach the end point */
    assert_int_equal(parse("M0 0 A 1 1 0 0 1 20 0", &o, NULL), 0);
    assert_true(fabs(o.min_y + 10) <= TOL);
    outline_free(&o);
}

static void transforms_apply_to_every_point(void **state)
{
    (void)state;
    svg_matrix m = {2, 0, 0, 3, 100, -5}; /* scale (2, 3), then translate */
    outline o;
    assert_int_equal(parse("M0 0H10V10H0Z", &o, &m), 0);
    assert_true(o.min_x == 100 && o.max_x == 120);
    assert_true(o.min_y == -5 && o.max_y == 25);
    outline_free(&o);
}

static void subpaths_become_rings(void **state)
{
    (void)state;
    outline o;
    assert_int_equal(parse("M0 0H100V100H0Z M40 40H60V60H40Z", &o, NULL), 0);
    assert_int_equal(o.nrings, 2);
    assert_false(outline_contains(&o, 50, 50)); /* the hole */
    outline_free(&o);
}

static void huge_paths_are_refused(void **state)
{
    (void)state;
    buf d;
    buf_init(&d);
    buf_append_str(&d, "M0 0");
    for (int i = 0; i < 500; i++)
        buf_append_str(&d, " A 1000 1000 0 1 1 0.001 0 A 1000 1000 0 1 1 0 0");
    outline o;
    outline_init(&o);
    buf err;
    buf_init(&err);
    assert_int_equal(svg_path_parse(d.data, d.len, NULL, &o, &err), -1);
    assert_non_null(strstr(err.data, "more than"));
    assert_int_equal(o.nrings, 0);
    outline_free(&o);
    buf_free(&err);
    buf_free(&d);
}

static void errors_name_the_byte(void **state)
{
    (void)state;
    const char *bad[] = {"L 0 0",
                         "M 0",
                         "M 0 0 X 1",
                         "M 0 0 C 1 2 3",
                         "M 0 0 A 1 1 0 2 0 5 5",
                         "M 0 0 L 1e999 0",
                         "M 0 0 L",
                         "M 0 0 #"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        outline o;
        assert_int_equal(parse(bad[i], &o, NULL), -1);
        outline_free(&o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_relative_and_implicit),
        cmocka_unit_test(compact_numbers),
        cmocka_unit_test(cubic_and_smooth_cubic),
        cmocka_unit_test(quadratic_and_smooth_quadratic),
        cmocka_unit_test(arcs),
        cmocka_unit_test(transforms_apply_to_every_point),
        cmocka_unit_test(subpaths_become_rings),
        cmocka_unit_test(huge_paths_are_refused),
        cmocka_unit_test(errors_name_the_byte),
    };
    return cmocka_run_group_tests_name("svg_path", tests, NULL, NULL);
}
