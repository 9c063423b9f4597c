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
 * result (Clinger's fast path). Fractions (a negative power of ten: every
 * coordinate) first try a 128-bit multiplication (lemire_convert) instead
 * of a division; what neither takes goes to x87 extended precision
 * (below), and huge exponents to strtod. */
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
__attribute__((noinline)) static int extended_convert(uint64_t mant, int exp10,
                                                      double *out)
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

/* 5^q for q = -30..-1, as 128-bit significands with the top bit set:
 * floor(2^b / 5^-q) + 1 for the b that puts it in [2^127, 2^128) (a
 * slight overestimate, which the rounding below allows for). */
static const uint64_t pow5_neg[30][2] = {
    {0xa2425ff75e14fc31u, 0xa1258379a94d028eu}, /* 5^-30 */
    {0xcad2f7f5359a3b3eu, 0x096ee45813a04331u}, /* 5^-29 */
    {0xfd87b5f28300ca0du, 0x8bca9d6e188853fdu}, /* 5^-28 */
    {0x9e74d1b791e07e48u, 0x775ea264cf55347eu}, /* 5^-27 */
    {0xc612062576589ddau, 0x95364afe032a819eu}, /* 5^-26 */
    {0xf79687aed3eec551u, 0x3a83ddbd83f52205u}, /* 5^-25 */
    {0x9abe14cd44753b52u, 0xc4926a9672793543u}, /* 5^-24 */
    {0xc16d9a0095928a27u, 0x75b7053c0f178294u}, /* 5^-23 */
    {0xf1c90080baf72cb1u, 0x5324c68b12dd6339u}, /* 5^-22 */
    {0x971da05074da7beeu, 0xd3f6fc16ebca5e04u}, /* 5^-21 */
    {0xbce5086492111aeau, 0x88f4bb1ca6bcf585u}, /* 5^-20 */
    {0xec1e4a7db69561a5u, 0x2b31e9e3d06c32e6u}, /* 5^-19 */
    {0x9392ee8e921d5d07u, 0x3aff322e62439fd0u}, /* 5^-18 */
    {0xb877aa3236a4b449u, 0x09befeb9fad487c3u}, /* 5^-17 */
    {0xe69594bec44de15bu, 0x4c2ebe687989a9b4u}, /* 5^-16 */
    {0x901d7cf73ab0acd9u, 0x0f9d37014bf60a11u}, /* 5^-15 */
    {0xb424dc35095cd80fu, 0x538484c19ef38c95u}, /* 5^-14 */
    {0xe12e13424bb40e13u, 0x2865a5f206b06fbau}, /* 5^-13 */
    {0x8cbccc096f5088cbu, 0xf93f87b7442e45d4u}, /* 5^-12 */
    {0xafebff0bcb24aafeu, 0xf78f69a51539d749u}, /* 5^-11 */
    {0xdbe6fecebdedd5beu, 0xb573440e5a884d1cu}, /* 5^-10 */
    {0x89705f4136b4a597u, 0x31680a88f8953031u}, /* 5^-9 */
    {0xabcc77118461cefcu, 0xfdc20d2b36ba7c3eu}, /* 5^-8 */
    {0xd6bf94d5e57a42bcu, 0x3d32907604691b4du}, /* 5^-7 */
    {0x8637bd05af6c69b5u, 0xa63f9a49c2c1b110u}, /* 5^-6 */
    {0xa7c5ac471b478423u, 0x0fcf80dc33721d54u}, /* 5^-5 */
    {0xd1b71758e219652bu, 0xd3c36113404ea4a9u}, /* 5^-4 */
    {0x83126e978d4fdf3bu, 0x645a1cac083126eau}, /* 5^-3 */
    {0xa3d70a3d70a3d70au, 0x3d70a3d70a3d70a4u}, /* 5^-2 */
    {0xccccccccccccccccu, 0xcccccccccccccccdu}, /* 5^-1 */
};

/* mant x 10^exp10 for exp10 in -30..-1 with one 64x128-bit multiplication
 * instead of a division (Eisel and Lemire's method, "Number Parsing at a
 * Gigabyte per Second", 2021): the product's top bits are the double's
 * significand, correctly rounded unless they sit too close to a rounding
 * boundary to tell, the cases that return 0 for a slower exact path. */
__attribute__((always_inline)) static inline int
lemire_convert(uint64_t mant, int exp10, double *out)
{
    if (exp10 < -30 || exp10 > -1 || mant == 0)
        return 0;
    const uint64_t *t = pow5_neg[exp10 + 30];
    int lz = __builtin_clzll(mant);
    uint64_t w = mant << lz;
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)w * t[0];
    uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
    if ((hi & 0x1FF) == 0x1FF) {
        /* The truncated table entry may matter: add its lower half. */
        uint64_t carry = (uint64_t)(((u128)w * t[1]) >> 64);
        lo += carry;
        hi += lo < carry;
        if ((hi & 0x1FF) == 0x1FF && lo == UINT64_MAX)
            return 0;
    }
    int upper = (int)(hi >> 63);
    uint64_t m = hi >> (upper + 9);
    /* floor(exp10 * log2(10)) + 63, then the double's exponent bias. */
    int power2 = (((152170 + 65536) * exp10) >> 16) + 63 + upper - lz + 1023;
    if (power2 <= 0)
        return 0;
    if (lo <= 1 && exp10 >= -4 && (m & 3) == 1)
        return 0; /* perhaps exactly halfway: round-to-even needs care */
    m += m & 1;
    m >>= 1;
    if (m >= (2ull << 52)) {
        m = 1ull << 52;
        power2++;
    }
    uint64_t bits = (m & ~(1ull << 52)) | (uint64_t)power2 << 52;
    memcpy(out, &bits, sizeof(*out));
    return 1;
}

/* The slow, exact path: strtod on a bounded copy. Out of line, as the
 * other slow paths, so that read_number stays small enough to inline. */
__attribute__((noinline)) static double exact_convert(const char *s, size_t len)
{
    char tmp[512];
    if (len >= sizeof(tmp))
        return HUGE_VAL; /* absurdly long: not a coordinate anyway */
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return strtod(tmp, NULL);
}

/* Reads a JSON number at the current position. Returns 1 with *out, or 0
 * if there is no valid number here (syntax error set). Inlined: it is
 * most of a frame's work, and a call's register saves were a tenth of it. */
__attribute__((always_inline)) static inline int read_number(scan *c,
                                                             double *out)
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
    /* Negative exponents (every coordinate) multiply rather than divide. */
    if (digits < 19 && lemire_convert(mant, exp10, out)) {
        if (neg)
            *out = -*out;
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
    *out = exact_convert(s + start, p - start);
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

/* Finite and within POSE_FRAME_MAX_COORD: one comparison also refuses
 * NaN and the infinities. */
static inline int coord_ok(double v)
{
    return fabs(v) <= POSE_FRAME_MAX_COORD;
}

/* A coordinate: a finite number within POSE_FRAME_MAX_COORD; anything
 * else makes the landmark bad (the value is still skipped validly). */
static int read_coord(scan *c, double *out)
{
    int ch = peek(c);
    if (ch == '-' || is_digit(ch)) {
        double v;
        if (!read_number(c, &v) || !coord_ok(v))
            return 0;
        *out = v;
        return 1;
    }
    skip_value(c);
    return 0;
}

/* Whether p starts with the n bytes of lit, compared 8, 4, 2 and 1 bytes
 * at a time: with lit and n constants the loads from lit fold into
 * immediates (gcc calls memcmp for a 5-byte one). */
__attribute__((always_inline)) static inline int
same_bytes(const char *p, const char *lit, size_t n)
{
    uint64_t a8, b8;
    uint32_t a4, b4;
    uint16_t a2, b2;
    for (; n >= 8; p += 8, lit += 8, n -= 8) {
        memcpy(&a8, p, 8), memcpy(&b8, lit, 8);
        if (a8 != b8)
            return 0;
    }
    if (n >= 4) {
        memcpy(&a4, p, 4), memcpy(&b4, lit, 4);
        if (a4 != b4)
            return 0;
        p += 4, lit += 4, n -= 4;
    }
    if (n >= 2) {
        memcpy(&a2, p, 2), memcpy(&b2, lit, 2);
        if (a2 != b2)
            return 0;
        p += 2, lit += 2, n -= 2;
    }
    return n == 0 || *p == *lit;
}

/* Takes the literal lit if the text goes on with it. Inlined so that n
 * is a constant and the comparison a load or two. */
__attribute__((always_inline)) static inline int take(scan *c, const char *lit,
                                                      size_t n)
{
    if (c->len - c->pos < n || !same_bytes(c->s + c->pos, lit, n))
        return 0;
    c->pos += n;
    return 1;
}

/* A key and its coordinate, with no space around the number (the exact
 * layout; read_coord() for any other). */
__attribute__((always_inline)) static inline int
take_coord(scan *c, const char *key, size_t n, double *out)
{
    double v;
    if (!take(c, key, n) || !read_number(c, &v) || !coord_ok(v))
        return 0;
    *out = v;
    return 1;
}

/* The landmark exactly as MediaPipe writes it,
 * {"x":N,"y":N,"z":N,"visibility":N} with no spaces, read without the
 * general key and value machinery. Returns 0, with the scanner where it
 * was, for anything else (the general reader then decides). */
static int read_landmark_exact(scan *c, pose_landmark *l)
{
    size_t start = c->pos;
    pose_landmark v;
    if (take_coord(c, "{\"x\":", 5, &v.x) &&
        take_coord(c, ",\"y\":", 5, &v.y) &&
        take_coord(c, ",\"z\":", 5, &v.z) &&
        take_coord(c, ",\"visibility\":", 14, &v.visibility) &&
        take(c, "}", 1)) {
        *l = v;
        return 1;
    }
    c->pos = start;
    c->syntax_error = 0; /* read_number's verdict is the general reader's */
    return 0;
}

/* One landmark object into l. Returns 1 if it has valid x and y (z and
 * visibility default to 0 and 1: a 2-D estimator's flat, fully visible
 * point). */
static int read_landmark(scan *c, pose_landmark *l)
{
    if (peek(c) == '{' && read_landmark_exact(c, l))
        return 1;
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
