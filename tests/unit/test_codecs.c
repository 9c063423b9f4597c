/* Unit tests for the small codecs: base64, UTF-8, JSON strings, ISO-8601
 * times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "isotime.h"
#include "utf8.h"

static void base64_round_trips_every_length(void **state)
{
    (void)state;
    unsigned char data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(data); n++) {
        buf enc, dec;
        buf_init(&enc);
        buf_init(&dec);
        base64_encode(&enc, data, n);
        assert_int_equal(enc.len, (n + 2) / 3 * 4);
        assert_int_equal(base64_decode(&dec, enc.data, enc.len), 0);
        assert_int_equal(dec.len, n);
        assert_memory_equal(dec.data ? dec.data : "", data, n);
        buf_free(&enc);
        buf_free(&dec);
    }
}

static void base64_known_vectors(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        buf b;
        buf_init(&b);
        base64_encode(&b, in[i], strlen(in[i]));
        assert_string_equal(b.data ? b.data : "", out[i]);
        buf_free(&b);
    }
}

static void base64_rejects_garbage(void **state)
{
    (void)state;
    const char *bad[] = {"Zm9v!", "Z", "Zm9v=Zm9v", "Zg===", "Zm9v\x80"};
    for (int i = 0; i < 5; i++) {
        buf b;
        buf_init(&b);
        assert_int_equal(base64_decode(&b, bad[i], strlen(bad[i])), -1);
        buf_free(&b);
    }
    buf b;
    buf_init(&b);
    assert_int_equal(base64_decode(&b, "Zm9v\nYmFy", 9), 0);
    assert_memory_equal(b.data, "foobar", 6);
    buf_free(&b);
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_int_equal(utf8_seq_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x9c\x93", 3), 3);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\xa7\x97", 4),
                     4);
    /* overlong, surrogate, truncated, out of range, stray continuation */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x9c", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4),
                     0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
}

static void json_string_escaping(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    buf_append_json_str(&b, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
    assert_string_equal(b.data,
                        "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"");
    buf_free(&b);
}

static void isotime_parses_celery_forms(void **state)
{
    (void)state;
    double t;
    assert_int_equal(isotime_parse("1970-01-01T00:00:00", 19, &t), 0);
    assert_true(t == 0);
    assert_int_equal(isotime_parse("2026-12-03T10:00:00.250000+00:00", 32, &t),
                     0);
    assert_true(t == 1796292000.25);
    assert_int_equal(isotime_parse("2026-12-03T11:30:00+01:30", 25, &t), 0);
    assert_true(t == 1796292000.0);
    assert_int_equal(isotime_parse("2026-12-03T10:00:00Z", 20, &t), 0);
    assert_true(t == 1796292000.0);
    assert_int_equal(isotime_parse("2024-02-29 00:00", 16, &t), 0);
    const char *bad[] = {"2026-13-01T00:00:00",
                         "2025-02-29T00:00:00",
                         "2026-12-03T24:00:00",
                         "2026-12-03",
                         "2026-12-03T10:00:00+",
                         "2026-12-03T10:00:00.",
                         "yesterday",
                         "2026-12-03T10:00:00 junk"};
    for (int i = 0; i < 8; i++)
        assert_int_equal(isotime_parse(bad[i], strlen(bad[i]), &t), -1);
}

static void isotime_formats_like_python(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    isotime_format_naive(&b, 1796292000.0);
    assert_string_equal(b.data, "2026-12-03T10:00:00");
    buf_reset(&b);
    isotime_format_naive(&b, 1796292000.123456);
    assert_string_equal(b.data, "2026-12-03T10:00:00.123456");
    buf_reset(&b);
    isotime_format_log(&b, 1796292000.123456);
    assert_string_equal(b.data, "2026-12-03 10:00:00,123");
    buf_free(&b);
}

/* The plain digit-by-digit way to write what buf_format_decimal writes:
 * round half away from zero at `places`, drop trailing zeros. */
static size_t reference_decimal(char *dst, double v, int places)
{
    static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double r = v * scale[places];
    long long n = (long long)(r < 0 ? r - 0.5 : r + 0.5);
    unsigned long long u =
        n < 0 ? (unsigned long long)-n : (unsigned long long)n;
    char tmp[40], *p = tmp + sizeof(tmp);
    int frac = places;
    while (frac > 0 && u % 10 == 0)
        u /= 10, frac--;
    for (int i = 0; i < frac; i++, u /= 10)
        *--p = (char)('0' + u % 10);
    if (frac > 0)
        *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        *--p = '-';
    size_t len = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, len);
    return len;
}

static void decimals_match_the_digit_by_digit_reference(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;
    static const double scale_of[] = {1e-7, 1e-3, 1, 7, 1e3, 1e6, 9.9e8};
    for (int places = 0; places <= 8; places++) {
        for (int i = 0; i < 20000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            double unit = (double)(x >> 11) / 9007199254740992.0;
            double v = (unit * 2 - 1) * scale_of[i % 7];
            char got[BUF_DECIMAL_MAX + 1], want[64];
            size_t gn = buf_format_decimal(got, v, places);
            size_t wn = reference_decimal(want, v, places);
            got[gn] = want[wn] = '\0';
            assert_string_equal(got, want);
        }
    }
    char out[BUF_DECIMAL_MAX + 1];
    const double edge[] = {0,   -0.0, 0.0000005, -0.0000005, 999999999.9999994,
                           1.5, 10,   100.000001};
    const char *want[] = {
        "0",   "0",  "0.000001",  "-0.000001", "999999999.999999",
        "1.5", "10", "100.000001"};
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        out[buf_format_decimal(out, edge[i], 6)] = '\0';
        assert_string_equal(out, want[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decimals_match_the_digit_by_digit_reference),
        cmocka_unit_test(base64_round_trips_every_length),
        cmocka_unit_test(base64_known_vectors),
        cmocka_unit_test(base64_rejects_garbage),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(json_string_escaping),
        cmocka_unit_test(isotime_parses_celery_forms),
        cmocka_unit_test(isotime_formats_like_python),
    };
    return cmocka_run_group_tests_name("codecs", tests, NULL, NULL);
}
