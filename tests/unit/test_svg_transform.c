/* Unit tests for SVG transforms: each function, lists applied right to
 * left, rotation about a point, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "svg_transform.h"

static void apply(const char *t, double x, double y, double *ox, double *oy)
{
    svg_matrix m;
    buf err;
    buf_init(&err);
    assert_int_equal(svg_transform_parse(t, strlen(t), &m, &err), 0);
    buf_free(&err);
    *ox = m.a * x + m.c * y + m.e;
    *oy = m.b * x + m.d * y + m.f;
}

#define assert_point(t, x, y, ex, ey)                                          \
    do {                                                                       \
        double px, py;                                                         \
        apply(t, x, y, &px, &py);                                              \
        assert_true(fabs(px - (ex)) < 1e-9 && fabs(py - (ey)) < 1e-9);         \
    } while (0)

static void each_function(void **state)
{
    (void)state;
    assert_point("translate(10,20)", 1, 1, 11, 21);
    assert_point("translate(10)", 1, 1, 11, 1);
    assert_point("scale(2)", 3, 4, 6, 8);
    assert_point("scale(2, -1)", 3, 4, 6, -4);
    assert_point("rotate(90)", 1, 0, 0, 1);
    assert_point("rotate(90 10 10)", 11, 10, 10, 11);
    assert_point("skewX(45)", 0, 1, 1, 1);
    assert_point("skewY(45)", 1, 0, 1, 1);
    assert_point("matrix(1 0 0 1 5 6)", 0, 0, 5, 6);
    assert_point("", 3, 4, 3, 4);
}

static void lists_apply_right_to_left(void **state)
{
    (void)state;
    /* scale first, then translate */
    assert_point("translate(10,0) scale(2)", 1, 1, 12, 2);
    /* translate first, then scale */
    assert_point("scale(2),translate(10,0)", 1, 1, 22, 2);
}

static void errors(void **state)
{
    (void)state;
    const char *bad[] = {"translate(", "rotate(1 2)",   "scale()",
                         "spin(3)",    "matrix(1 2 3)", "translate(1e999)",
                         "(1)"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svg_matrix m;
        buf err;
        buf_init(&err);
        assert_int_equal(svg_transform_parse(bad[i], strlen(bad[i]), &m, &err),
                         -1);
        assert_non_null(strstr(err.data, "byte "));
        buf_free(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_function),
        cmocka_unit_test(lists_apply_right_to_left),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests_name("svg_transform", tests, NULL, NULL);
}
