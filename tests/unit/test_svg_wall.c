/* Unit tests for wall drawings: the XML reader (entities, skipped
 * constructs, well-formedness errors with line and column) and the SVG
 * wall (size and units, every shape, nested transforms, class "hold",
 * hidden containers, ids, errors naming where). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "svg_wall.h"
#include "xml_scan.h"

static int parse(const char *svg, svg_wall *w, buf *err)
{
    buf_init(err);
    return svg_wall_parse(svg, strlen(svg), w, err);
}

/* Parses svg, which must fail with an error containing want. */
static void fails_with(const char *svg, const char *want)
{
    svg_wall w;
    buf err;
    assert_int_equal(parse(svg, &w, &err), -1);
    if (!strstr(err.data, want))
        fail_msg("error \"%s\" lacks \"%s\"", err.data, want);
    buf_free(&err);
}

static const svg_hold *hold(const svg_wall *w, const char *id)
{
    long i = svg_wall_find(w, id, strlen(id));
    if (i < 0)
        fail_msg("no hold %s", id);
    return &w->holds[i];
}

static int inside(const svg_wall *w, const char *id, double x, double y)
{
    return outline_contains(&hold(w, id)->outline, x, y);
}

static void xml_skips_comments_cdata_doctype_and_decodes_entities(void **st)
{
    (void)st;
    const char *doc = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE svg [ <!ENTITY x \"<not a tag>\"> ]>\n"
                      "<!-- <path id='no'/> -->\n"
                      "<svg a='1'><![CDATA[ <g> ]]><p id=\"&#x41;&amp;&lt;\"/>"
                      "</svg>";
    xml_scan x;
    xml_scan_init(&x, doc, strlen(doc));
    assert_int_equal(xml_scan_next(&x), XML_SCAN_START);
    assert_true(xml_scan_str_is(x.name, "svg"));
    assert_int_equal(xml_scan_next(&x), XML_SCAN_START);
    assert_true(xml_scan_str_is(x.name, "p"));
    buf v;
    buf_init(&v);
    assert_int_equal(xml_scan_decode(xml_scan_attr_get(&x, "id")->raw, &v), 0);
    assert_string_equal(v.data, "A&<");
    assert_int_equal(xml_scan_next(&x), XML_SCAN_END);
    assert_int_equal(xml_scan_next(&x), XML_SCAN_END);
    assert_int_equal(xml_scan_next(&x), XML_SCAN_EOF);
    xml_scan_str bad = {"&bogus;", 7};
    assert_int_equal(xml_scan_decode(bad, &v), -1);
    buf_free(&v);
    xml_scan_free(&x);
}

static void xml_errors_name_line_and_column(void **st)
{
    (void)st;
    fails_with("<svg viewBox='0 0 1 1'>\n  <g>\n</svg>",
               "line 3, column 1: </svg> does not match <g>");
    fails_with("<svg viewBox='0 0 1 1'>\n<path id='a' d='M0 0'", "line 2");
    fails_with("<svg viewBox='0 0 1 1'>", "never closed");
    fails_with("<svg x='1' x='2'/>", "repeated");
    fails_with("<svg viewBox='0 0 1 1'><!-- open", "unterminated comment");
    fails_with("", "no root element");
    fails_with("<svg viewBox='0 0 1 1'/><svg/>", "second root");
}

static void size_comes_from_the_view_box_else_width_and_height(void **st)
{
    (void)st;
    svg_wall w;
    buf err;
    assert_int_equal(parse("<svg viewBox='10,20 2500 3330' width='5cm'>"
                           "<circle id='h' cx='50' cy='50' r='5'/></svg>",
                           &w, &err),
                     0);
    assert_true(w.x == 10 && w.y == 20 && w.width == 2500 && w.height == 3330);
    svg_wall_free(&w);
    buf_free(&err);
    /* 25.4 mm is 96 user units (CSS pixels). */
    assert_int_equal(parse("<svg width='25.4mm' height='1in'>"
                           "<circle id='h' cx='50' cy='50' r='5'/></svg>",
                           &w, &err),
                     0);
    assert_true(fabs(w.width - 96) < 1e-9 && fabs(w.height - 96) < 1e-9);
    svg_wall_free(&w);
    buf_free(&err);
    fails_with("<svg width='100%' height='100%'><circle id='h' r='1'/></svg>",
               "bad width");
    fails_with("<svg><circle id='h' r='1'/></svg>", "the wall has no size");
    fails_with("<svg viewBox='0 0 -1 5'/>", "bad viewBox");
    fails_with("<html/>", "not <svg>");
}

static void every_shape_becomes_a_hold_with_its_id(void **st)
{
    (void)st;
    svg_wall w;
    buf err;
    assert_int_equal(
        parse("<svg viewBox='0 0 1000 1000'>"
              "<path id='p' d='M 0 0 H 100 V 100 H 0 Z'/>"
              "<circle id='c' cx='300' cy='300' r='50'/>"
              "<ellipse id='e' cx='500' cy='500' rx='80' ry='20'/>"
              "<rect id='r' x='600' y='600' width='100' height='50' rx='10'/>"
              "<polygon id='g' points='800,800 900,800 850,900'/>"
              "<polyline id='l' points='0 900 100 900 50 990'/>"
              "<circle cx='1' cy='1' r='1'/>"
              "<circle id='zero' cx='1' cy='1' r='0'/>"
              "<text id='t'>not a shape</text></svg>",
              &w, &err),
        0);
    assert_int_equal(w.nholds, 6);
    assert_string_equal(w.holds[0].id, "p");
    assert_string_equal(w.holds[5].id, "l");
    assert_true(inside(&w, "p", 50, 50) && !inside(&w, "p", 150, 50));
    assert_true(inside(&w, "c", 340, 300) && !inside(&w, "c", 340, 340));
    assert_true(inside(&w, "e", 570, 500) && !inside(&w, "e", 500, 530));
    assert_true(inside(&w, "r", 650, 625) && !inside(&w, "r", 601, 601));
    assert_true(inside(&w, "g", 850, 820) && !inside(&w, "g", 810, 890));
    assert_true(inside(&w, "l", 50, 920));
    /* The path keeps its d; the other shapes get an equivalent one. */
    assert_string_equal(hold(&w, "p")->d, "M 0 0 H 100 V 100 H 0 Z");
    assert_non_null(strstr(hold(&w, "c")->d, " A 50,50 0 1 1 350,300"));
    assert_null(hold(&w, "p")->transform);
    svg_wall_free(&w);
    buf_free(&err);
}

static void nested_transforms_apply_to_the_outline(void **st)
{
    (void)st;
    svg_wall w;
    buf err;
    assert_int_equal(
        parse("<svg viewBox='0 0 1000 1000'>"
              "<g transform='translate(500 500)'><g transform='rotate(90)'>"
              "<rect id='r' x='0' y='-10' width='100' height='20' "
              "style='fill:red'/></g></g>"
              "<g transform='scale(2)'><circle id='c' cx='50' cy='50' r='10'/>"
              "</g></svg>",
              &w, &err),
        0);
    /* The bar along +x, turned a quarter, points down from (500, 500). */
    assert_true(inside(&w, "r", 500, 590) && !inside(&w, "r", 590, 500));
    assert_true(inside(&w, "c", 100, 100) && inside(&w, "c", 118, 100));
    assert_string_equal(hold(&w, "r")->style, "fill:red");
    assert_non_null(hold(&w, "r")->transform);
    assert_non_null(strstr(hold(&w, "c")->transform, "matrix(2,0,0,2,0,0)"));
    svg_wall_free(&w);
    buf_free(&err);
}

static void class_hold_filters_and_hidden_containers_are_skipped(void **st)
{
    (void)st;
    svg_wall w;
    buf err;
    assert_int_equal(
        parse("<svg viewBox='0 0 100 100'>"
              "<defs><circle id='d' class='hold' cx='1' cy='1' r='1'/></defs>"
              "<clipPath id='cp'><rect id='x' width='5' height='5'/></clipPath>"
              "<mask><circle id='m' class='hold' cx='1' cy='1' r='1'/></mask>"
              "<symbol><circle id='s' class='hold' cx='1' cy='1' r='1'/>"
              "</symbol>"
              "<rect id='background' width='100' height='100'/>"
              "<circle id='a' class='big hold' cx='10' cy='10' r='5'/>"
              "<circle id='b' class='holdings' cx='30' cy='30' r='5'/>"
              "<svg:circle id='c' class='hold' cx='50' cy='50' r='5'/></svg>",
              &w, &err),
        0);
    assert_int_equal(w.nholds, 2);
    assert_string_equal(w.holds[0].id, "a");
    assert_string_equal(w.holds[1].id, "c");
    assert_int_equal(svg_wall_find(&w, "background", 10), -1);
    svg_wall_free(&w);
    buf_free(&err);
}

static void errors_name_the_element_and_where(void **st)
{
    (void)st;
    fails_with("<svg viewBox='0 0 9 9'>\n  <path id='h3' d='M 1 1 C 2'/></svg>",
               "line 2, column 3: <path> 'h3': d: ");
    fails_with("<svg viewBox='0 0 9 9'>\n<g transform='spin(3)'/></svg>",
               "line 2, column 1: <g>: transform:");
    fails_with("<svg viewBox='0 0 9 9'><circle id='a' r='1'/>\n"
               "<rect id='a' width='1' height='1'/></svg>",
               "line 2, column 1: id 'a' is used twice");
    fails_with("<svg viewBox='0 0 9 9'><circle id='a' r='x'/></svg>",
               "<circle>: bad r");
    fails_with("<svg viewBox='0 0 9 9'><defs><circle id='a' r='1'/></defs>"
               "</svg>",
               "no holds");
    fails_with("<svg viewBox='0 0 9 9'><polygon id='p' points='1 2 3'/></svg>",
               "<polygon> 'p': shape:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_skips_comments_cdata_doctype_and_decodes_entities),
        cmocka_unit_test(xml_errors_name_line_and_column),
        cmocka_unit_test(size_comes_from_the_view_box_else_width_and_height),
        cmocka_unit_test(every_shape_becomes_a_hold_with_its_id),
        cmocka_unit_test(nested_transforms_apply_to_the_outline),
        cmocka_unit_test(class_hold_filters_and_hidden_containers_are_skipped),
        cmocka_unit_test(errors_name_the_element_and_where),
    };
    return cmocka_run_group_tests_name("svg_wall", tests, NULL, NULL);
}
