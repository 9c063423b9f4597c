/* isotime: a strict parser and two formatters for Celery's timestamps.
 *
 * Calendar arithmetic is done by hand (days from civil date) instead of
 * timegm(), so parsing never depends on the process time zone. */
#include "isotime.h"

#include <math.h>
#include <stdint.h>
#include <time.h>

static int digits(const char *s, size_t len, size_t pos, int n, int *out)
{
    if (pos + (size_t)n > len)
        return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[pos + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int isotime_parse(const char *s, size_t len, double *epoch)
{
    int y, mo, d, h, mi, sec = 0;
    size_t p = 0;
    if (digits(s, len, 0, 4, &y) || len < 16 || s[4] != '-' ||
        digits(s, len, 5, 2, &mo) || s[7] != '-' || digits(s, len, 8, 2, &d) ||
        (s[10] != 'T' && s[10] != ' ') || digits(s, len, 11, 2, &h) ||
        s[13] != ':' || digits(s, len, 14, 2, &mi))
        return -1;
    p = 16;
    double frac = 0;
    if (p < len && s[p] == ':') {
        if (digits(s, len, p + 1, 2, &sec))
            return -1;
        p += 3;
        if (p < len && (s[p] == '.' || s[p] == ',')) {
            p++;
            double scale = 0.1;
            size_t start = p;
            while (p < len && s[p] >= '0' && s[p] <= '9') {
                frac += (s[p] - '0') * scale;
                scale /= 10;
                p++;
            }
            if (p == start)
                return -1;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    int offset = 0;
    if (p < len && s[p] == 'Z') {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        int oh, om = 0;
        int sign = s[p] == '-' ? -1 : 1;
        if (digits(s, len, p + 1, 2, &oh))
            return -1;
        p += 3;
        if (p < len && s[p] == ':')
            p++;
        if (p < len) {
            if (digits(s, len, p, 2, &om))
                return -1;
            p += 2;
        }
        if (oh > 23 || om > 59)
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (p != len)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    *epoch = (double)(days * 86400 + h * 3600 + mi * 60 + sec - offset) + frac;
    return 0;
}

static void split_utc(double epoch, struct tm *tm, long *usec)
{
    double whole = floor(epoch);
    long us = lround((epoch - whole) * 1e6);
    if (us >= 1000000) {
        us -= 1000000;
        whole += 1;
    }
    time_t t = (time_t)whole;
    gmtime_r(&t, tm);
    *usec = us;
}

void isotime_format_naive(buf *out, double epoch)
{
    struct tm tm;
    long us;
    split_utc(epoch, &tm, &us);
    buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (us)
        buf_printf(out, ".%06ld", us);
}

void isotime_format_utc(buf *out, double epoch)
{
    isotime_format_naive(out, epoch);
    buf_append_str(out, "+00:00");
}

/* The inverse of days_from_civil() (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* Written by hand, not by printf and gmtime: the tracker stamps several
 * of these into every session frame it streams. */
void isotime_format_ms(buf *out, double epoch)
{
    double total = floor(epoch * 1000 + 0.5);
    if (!(total > -6e16 && total < 2.5e17))
        total = 0; /* outside years 0..9999: not a time the tracker makes */
    int64_t ms = (int64_t)total;
    int64_t days = (ms >= 0 ? ms : ms - 86399999) / 86400000;
    int64_t rem = ms - days * 86400000;
    int64_t y;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    char s[24], *p = s;
    p = put_digits(p, y < 0 ? 0 : y % 10000, 4);
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, rem / 3600000, 2);
    *p++ = ':';
    p = put_digits(p, rem / 60000 % 60, 2);
    *p++ = ':';
    p = put_digits(p, rem / 1000 % 60, 2);
    *p++ = '.';
    p = put_digits(p, rem % 1000, 3);
    *p++ = 'Z';
    buf_append(out, s, (size_t)(p - s));
}

json_t *isotime_utc_json(double epoch)
{
    buf b;
    buf_init(&b);
    isotime_format_utc(&b, epoch);
    json_t *s = json_string(b.data);
    buf_free(&b);
    return s;
}

void isotime_format_log(buf *out, double epoch)
{
    struct tm tm;
    long us;
    split_utc(epoch, &tm, &us);
    buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d,%03ld", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               us / 1000);
}
