/* isotime: the ISO-8601 timestamps Celery puts on the wire (eta, expires,
 * date_done), as seconds since the epoch in a double. */
#ifndef POSETRACKD_ISOTIME_H
#define POSETRACKD_ISOTIME_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

/* Parses YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|+HH:MM|-HH:MM]. A time without
 * an offset is UTC (Celery's default timezone). Returns 0 or -1. */
int isotime_parse(const char *s, size_t len, double *epoch);
/* Appends t as Python's datetime.isoformat() of a naive UTC datetime:
 * 2026-12-03T10:00:00.123456, the fraction left out when it is zero. This is
 * what Celery 5.2 stores as date_done. */
void isotime_format_naive(buf *out, double epoch);
/* The same with the UTC offset, as Python's isoformat() of an aware
 * datetime: 2026-12-03T10:00:00.123456+00:00 (eta and expires). */
void isotime_format_utc(buf *out, double epoch);
/* Appends t to the millisecond with a Z, as JavaScript's toISOString():
 * 2026-12-03T10:00:00.123Z. The tracker's session times use it. */
void isotime_format_ms(buf *out, double epoch);
/* isotime_format_utc() as a new JSON string. */
json_t *isotime_utc_json(double epoch);
/* Appends t as 2026-12-03 10:00:00,123 (UTC), the timestamp of Celery's
 * log lines. */
void isotime_format_log(buf *out, double epoch);

#endif
