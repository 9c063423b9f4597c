/* pose_frame: one pass over the frame text, straight into the pose
 * struct: no tree, no allocation, each byte looked at about once. The
 * keys the tracker uses are read by hand; any other value is validated
 * and skipped by the span scanner, so a frame is accepted only if the
 * whole text is valid JSON. Semantic problems (a landmark without x, 32
 * landmarks) are noted and the scan goes on, because a syntax error later
 * in the text still makes it "not_json".
 *
 * Numbers go through a reader of JSON's grammar that converts exactly:
 * up to 19 significant digits are collected into an integer and, when it
 * and the power of ten are both exact doubles (mantissa < 2^53, power at
 * most 22), one multiplication or division gives the correctly rounded
 * result (Clinger's fast path). MediaPipe's 17-digit numbers above 2^53
 * take x87 extended precision (below); huge exponents go to strtod. */
#include "pose_frame.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_span.h"

typedef struct scan {
    const char *s;
    size_t len, pos;
    int syntax_error;
} scan;

static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static void skip_ws(scan *c)
{
    while (c->pos < c->len) {
        char ch = c->s[c->pos];
        if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t')
            return;
        c->pos++;
    }
}

static int peek(scan *c)
{
    skip_ws(c);
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static int expect(scan *c, char ch)
{
    if (peek(c) != (unsigned char)ch) {
        c->syntax_error = 1;
        return 0;
    }
    c->pos++;
    return 1;
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* If the 8 bytes at p are all digits, sets *v to their value (SWAR: the
 * digits are combined in pairs, quads, then halves inside one word). */
static int eight_digits(const char *p, uint64_t *v)
{
    uint64_t w;
    memcpy(&w, p, 8);
    if (((w & 0xF0F0F0F0F0F0F0F0u) |
         (((w + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) !=
        0x3333333333333333u)
        return 0;
    w = (w & 0x0F0F0F0F0F0F0F0Fu) * 2561 >> 8;
    w = (w & 0x00FF00FF00FF00FFu) * 6553601 >> 16;
    *v = (w & 0x0000FFFF0000FFFFu) * 42949672960001u >> 32;
    return 1;
}

#if LDBL_MANT_DIG == 64
/* x87 extended precision: a 64-bit significand holds any 19-digit
 * mantissa and 10^k up to 10^27 exactly, so one division or multiplication
 * is correctly rounded to 64 bits. Rounding that to 53 bits is then
 * correct too, unless the 64-bit result sits exactly halfway between two
 * doubles (its 11 extra bits 10000000000): any other double-rounding
 * error would need a halfway point strictly between the true value and
 * the 64-bit one, less than half a 64-bit ulp from it, yet a whole number
 * of 64-bit ulps away. That one case, and other exponents, go to strtod. */
static int extended_convert(uint64_t mant, int exp10, double *out)
{
    static const long double p10[] = {
        1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
        1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
        1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
    if (exp10 < -27 || exp10 > 27)
        return 0;
    long double y = exp10 < 0 ? (long double)mant / p10[-exp10]
                              : (long double)mant * p10[exp10];
    uint64_t sig;
    memcpy(&sig, &y, sizeof(sig)); /* the significand, bits 0..63 */
    if ((sig & 0x7FF) == 0x400)
        return 0;
    *out = (double)y;
    return 1;
}
#else
static int extended_convert(uint64_t mant, int exp10, double *out)
{
    (void)mant, (void)exp10, (void)out;
    return 0;
}
#endif

/* Reads a JSON number at the current position. Returns 1 with *out, or 0
 * if there is no valid number here (syntax error set). */
static int read_number(scan *c, double *out)
{
    const char *s = c->s;
    size_t p = c->pos, start = p, n = c->len;
    int neg = 0;
    if (p < n && s[p] == '-')
        neg = 1, p++;
    if (p >= n || !is_digit(s[p]))
        goto bad;
    uint64_t mant = 0;
    int digits = 0, exp10 = 0;
    if (s[p] == '0') {
        p++;
    } else {
        for (; p < n && is_digit(s[p]); p++) {
            if (digits < 19)
                mant = mant * 10 + (uint64_t)(s[p] - '0'), digits++;
            else
                exp10++;
        }
    }
    if (p < n && s[p] == '.') {
        p++;
        if (p >= n || !is_digit(s[p]))
            goto bad;
        uint64_t chunk;
        /* Leading zeros taken in a chunk count as digits: a number that
         * then runs past 19 digits just takes the strtod path. */
        while (digits + 8 <= 19 && p + 8 <= n && eight_digits(s + p, &chunk)) {
            mant = mant * 100000000u + chunk;
            digits += 8;
            exp10 -= 8;
            p += 8;
        }
        for (; p < n && is_digit(s[p]); p++) {
            if (mant == 0 && s[p] == '0') {
                exp10--; /* leading zeros are not significant */
            } else if (digits < 19) {
                mant = mant * 10 + (uint64_t)(s[p] - '0'), digits++;
                exp10--;
            }
        }
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        int eneg = 0, e = 0;
        if (p < n && (s[p] == '+' || s[p] == '-'))
            eneg = s[p] == '-', p++;
        if (p >= n || !is_digit(s[p]))
            goto bad;
        for (; p < n && is_digit(s[p]); p++)
            if (e < 100000)
                e = e * 10 + (s[p] - '0');
        exp10 += eneg ? -e : e;
    }
    c->pos = p;
    if (mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    if (digits < 19 && mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return 1;
    }
    if (digits < 19 && extended_convert(mant, exp10, out)) {
        if (neg)
            *out = -*out;
        return 1;
    }
    /* The slow, exact path: strtod on a bounded copy. */
    char tmp[512];
    size_t len = p - start;
    if (len >= sizeof(tmp)) {
        *out = HUGE_VAL; /* absurdly long: not a coordinate anyway */
        return 1;
    }
    memcpy(tmp, s + start, len);
    tmp[len] = '\0';
    *out = strtod(tmp, NULL);
    return 1;
bad:
    c->syntax_error = 1;
    return 0;
}

/* Skips any value, validating it. Returns its kind. */
static json_kind skip_value(scan *c)
{
    skip_ws(c);
    json_span v;
    json_kind k = json_span_value(c->s, c->len, &c->pos, &v);
    if (k == JSON_KIND_INVALID)
        c->syntax_error = 1;
    return k;
}

/* Reads an object key; returns the raw bytes between the quotes (escapes
 * not decoded: the keys the tracker knows have none). */
static int read_key(scan *c, const char **key, size_t *klen)
{
    skip_ws(c);
    size_t start = c->pos;
    json_span v;
    if (json_span_value(c->s, c->len, &c->pos, &v) != JSON_KIND_STRING) {
        c->syntax_error = 1;
        return 0;
    }
    *key = c->s + start + 1;
    *klen = v.len - 2;
    return expect(c, ':');
}

static int key_is(const char *k, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    return n == m && memcmp(k, lit, m) == 0;
}

/* Iterates an object's members: call with first = 1; returns 1 with the
 * key read and the scanner at its value, 0 at the end or on an error. */
static int next_member(scan *c, int *first, const char **key, size_t *klen)
{
    if (*first) {
        *first = 0;
        if (!expect(c, '{'))
            return 0;
        if (peek(c) == '}') {
            c->pos++;
            return 0;
        }
    } else {
        int ch = peek(c);
        if (ch == '}') {
            c->pos++;
            return 0;
        }
        if (!expect(c, ','))
            return 0;
    }
    return read_key(c, key, klen);
}

/* A coordinate: a finite number within POSE_FRAME_MAX_COORD; anything
 * else makes the landmark bad (the value is still skipped validly). */
static int read_coord(scan *c, double *out)
{
    int ch = peek(c);
    if (ch == '-' || is_digit(ch)) {
        double v;
        if (!read_number(c, &v))
            return 0;
        if (!isfinite(v) || fabs(v) > POSE_FRAME_MAX_COORD)
            return 0;
        *out = v;
        return 1;
    }
    skip_value(c);
    return 0;
}

/* One landmark object into l. Returns 1 if it has valid x and y (z and
 * visibility default to 0 and 1: a 2-D estimator's flat, fully visible
 * point). */
static int read_landmark(scan *c, pose_landmark *l)
{
    if (peek(c) != '{') {
        skip_value(c);
        return 0;
    }
    int first = 1, ok = 1, have = 0;
    const char *k;
    size_t kn;
    l->z = 0;
    l->visibility = 1;
    while (next_member(c, &first, &k, &kn)) {
        double *dst = kn == 1 && k[0] == 'x'        ? &l->x
                      : kn == 1 && k[0] == 'y'      ? &l->y
                      : kn == 1 && k[0] == 'z'      ? &l->z
                      : key_is(k, kn, "visibility") ? &l->visibility
                                                    : NULL;
        if (!dst) {
            skip_value(c);
            continue;
        }
        if (!read_coord(c, dst))
            ok = 0;
        have |= dst == &l->x ? 1 : dst == &l->y ? 2 : 0;
    }
    return ok && have == 3;
}

static pose_frame_status read_landmarks(scan *c, pose_frame *out)
{
    if (peek(c) != '[') {
        skip_value(c);
        return POSE_FRAME_NO_LANDMARKS;
    }
    c->pos++;
    size_t n = 0;
    pose_frame_status st = POSE_FRAME_OK;
    if (peek(c) == ']') {
        c->pos++;
        return POSE_FRAME_BAD_COUNT;
    }
    /* The first problem in array order is the one reported. */
    for (;;) {
        pose_landmark scratch;
        pose_landmark *l =
            n < POSE_BODY_LANDMARKS ? &out->pose.lm[n] : &scratch;
        if (n == POSE_BODY_LANDMARKS && st == POSE_FRAME_OK)
            st = POSE_FRAME_BAD_COUNT;
        if (!read_landmark(c, l) && st == POSE_FRAME_OK)
            st = POSE_FRAME_BAD_LANDMARK;
        n++;
        if (c->syntax_error)
            return st;
        int ch = peek(c);
        if (ch == ']') {
            c->pos++;
            break;
        }
        if (!expect(c, ','))
            return st;
    }
    if (st == POSE_FRAME_OK && n != POSE_BODY_LANDMARKS)
        return POSE_FRAME_BAD_COUNT;
    return st;
}

static int read_small_int(scan *c)
{
    int ch = peek(c);
    double d;
    if ((ch == '-' || is_digit(ch)) && read_number(c, &d))
        return d >= 0 && d < 1e6 ? (int)d : 0;
    skip_value(c);
    return 0;
}

/* "type": must be the string "pose" if present. */
static int read_type(scan *c)
{
    skip_ws(c);
    size_t start = c->pos;
    json_kind k = skip_value(c);
    return k == JSON_KIND_STRING && c->pos - start == 6 &&
           memcmp(c->s + start, "\"pose\"", 6) == 0;
}

/* "timestamp": a finite number >= 0, or null. Returns 0 if bad. */
static int read_timestamp(scan *c, pose_frame *out)
{
    int ch = peek(c);
    if (ch == 'n')
        return skip_value(c) == JSON_KIND_NULL;
    if (ch != '-' && !is_digit(ch)) {
        skip_value(c);
        return 0;
    }
    double v;
    if (!read_number(c, &v) || !isfinite(v) || v < 0)
        return 0;
    out->timestamp_ms = v;
    out->has_timestamp = 1;
    return 1;
}

pose_frame_status pose_frame_parse(const char *s, size_t len, pose_frame *out)
{
    out->has_timestamp = 0;
    out->timestamp_ms = 0;
    out->width = out->height = 0;
    if (len > POSE_FRAME_MAX_BYTES)
        return POSE_FRAME_TOO_LARGE;
    scan c = {s, len, 0, 0};
    if (peek(&c) != '{') {
        json_span v;
        return json_span_whole(s, len, &v) ? POSE_FRAME_NOT_POSE
                                           : POSE_FRAME_NOT_JSON;
    }
    int first = 1, type_ok = 1, ts_ok = 1, have_lms = 0;
    pose_frame_status lms = POSE_FRAME_NO_LANDMARKS;
    const char *k;
    size_t kn;
    while (next_member(&c, &first, &k, &kn)) {
        if (key_is(k, kn, "type"))
            type_ok = read_type(&c);
        else if (key_is(k, kn, "timestamp"))
            ts_ok = read_timestamp(&c, out);
        else if (key_is(k, kn, "width"))
            out->width = read_small_int(&c);
        else if (key_is(k, kn, "height"))
            out->height = read_small_int(&c);
        else if (!have_lms &&
                 (key_is(k, kn, "landmarks") || key_is(k, kn, "pose") ||
                  key_is(k, kn, "data"))) {
            have_lms = 1;
            lms = read_landmarks(&c, out);
        } else
            skip_value(&c);
        if (c.syntax_error)
            break;
    }
    if (!c.syntax_error && peek(&c) != -1)
        c.syntax_error = 1;
    if (c.syntax_error)
        return POSE_FRAME_NOT_JSON;
    if (!type_ok)
        return POSE_FRAME_NOT_POSE;
    if (!ts_ok)
        return POSE_FRAME_BAD_TIMESTAMP;
    return lms;
}

const char *pose_frame_status_name(pose_frame_status st)
{
    static const char *const names[POSE_FRAME_STATUS_COUNT] = {
        "ok",           "too_large", "not_json",     "not_pose",
        "no_landmarks", "bad_count", "bad_landmark", "bad_timestamp",
    };
    return st < POSE_FRAME_STATUS_COUNT ? names[st] : "unknown";
}
