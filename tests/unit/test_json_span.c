/* Unit tests for json_span: the validator accepts exactly RFC 8259 JSON,
 * iteration yields the right spans, strings and numbers decode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "json_span.h"

static int whole(const char *s)
{
    json_span v;
    return json_span_whole(s, strlen(s), &v);
}

static void accepts_valid_json(void **state)
{
    (void)state;
    const char *ok[] = {"0",
                        "-0",
                        "1.5e-3",
                        "-12.25E+7",
                        "\"\"",
                        "\"\\u00e9\"",
                        "\"\\ud83e\\uddd7\"",
                        "true",
                        "false",
                        "null",
                        "[]",
                        "{}",
                        " [1, [2, {\"a\": [null]}]] ",
                        "{\"a\":1,\"b\":2}",
                        "\"h\xc3\xa9llo\"",
                        "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(whole(ok[i]));
}

static void rejects_invalid_json(void **state)
{
    (void)state;
    const char *bad[] = {
        "",         "01",           "1.",        ".5",       "+1",
        "1e",       "NaN",          "Infinity",  "tru",      "nul",
        "[1,]",     "[,1]",         "{\"a\"}",   "{a:1}",    "{\"a\":1,}",
        "\"abc",    "\"\\x\"",      "\"\\u12\"", "\"\x01\"", "[1] 2",
        "\"\xff\"", "\"\xc0\xaf\"", "[",         "]",        "{\"a\":1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(whole(bad[i]));
}

static void bounds_nesting_depth(void **state)
{
    (void)state;
    size_t n = JSON_SPAN_MAX_DEPTH + 10;
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    assert_false(whole(s));
    size_t ok = JSON_SPAN_MAX_DEPTH;
    memset(s, '[', ok);
    memset(s + ok, ']', ok);
    s[2 * ok] = '\0';
    assert_true(whole(s));
    free(s);
}

static void iterates_arrays_and_objects(void **state)
{
    (void)state;
    const char *s = "[ 1 , \"two\", [3, 4], {\"five\": 5} ]";
    json_span arr, v;
    assert_true(json_span_whole(s, strlen(s), &arr));
    size_t pos = 0;
    const char *want[] = {"1", "\"two\"", "[3, 4]", "{\"five\": 5}"};
    int n = 0;
    while (json_span_array_next(arr, &pos, &v)) {
        assert_int_equal(v.len, strlen(want[n]));
        assert_memory_equal(v.p, want[n], v.len);
        n++;
    }
    assert_int_equal(n, 4);

    const char *o = "{\"a\": [1], \"b\" : null}";
    json_span obj, key;
    assert_true(json_span_whole(o, strlen(o), &obj));
    pos = 0;
    assert_true(json_span_object_next(obj, &pos, &key, &v));
    assert_true(json_span_key_is(key, "a"));
    assert_int_equal(json_span_kind(v), JSON_KIND_ARRAY);
    assert_true(json_span_object_next(obj, &pos, &key, &v));
    assert_true(json_span_key_is(key, "b"));
    assert_int_equal(json_span_kind(v), JSON_KIND_NULL);
    assert_false(json_span_object_next(obj, &pos, &key, &v));
}

static void decodes_strings_and_numbers(void **state)
{
    (void)state;
    json_span v;
    const char *s = "\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83e\\uddd7\"";
    assert_true(json_span_whole(s, strlen(s), &v));
    buf b;
    buf_init(&b);
    assert_int_equal(json_span_string(v, &b), 0);
    assert_string_equal(b.data, "a\"b\\c/\n\xc3\xa9\xf0\x9f\xa7\x97");
    buf_free(&b);
    const char *lone = "\"\\udc00\"";
    assert_true(json_span_whole(lone, strlen(lone), &v));
    buf_init(&b);
    assert_int_equal(json_span_string(v, &b), -1);
    buf_free(&b);
    double d;
    const char *num = "-12.5e1";
    assert_true(json_span_whole(num, strlen(num), &v));
    assert_int_equal(json_span_number(v, &d), 0);
    assert_true(d == -125.0);
    const char *str = "\"12\"";
    assert_true(json_span_whole(str, strlen(str), &v));
    assert_int_equal(json_span_number(v, &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_valid_json),
        cmocka_unit_test(rejects_invalid_json),
        cmocka_unit_test(bounds_nesting_depth),
        cmocka_unit_test(iterates_arrays_and_objects),
        cmocka_unit_test(decodes_strings_and_numbers),
    };
    return cmocka_run_group_tests_name("json_span", tests, NULL, NULL);
}
