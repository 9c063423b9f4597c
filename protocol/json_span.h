/* json_span: locate JSON values inside a buffer without building a tree.
 *
 * Task bodies are forwarded, not interpreted: echo returns its arguments as
 * they came, big integers and all, and the tracker parses only what it uses.
 * A span is a byte range of one complete, validated JSON value. */
#ifndef POSETRACKD_JSON_SPAN_H
#define POSETRACKD_JSON_SPAN_H

#include <stddef.h>

#include "buf.h"

typedef struct json_span {
    const char *p;
    size_t len;
} json_span;

typedef enum json_kind {
    JSON_KIND_INVALID = 0,
    JSON_KIND_OBJECT,
    JSON_KIND_ARRAY,
    JSON_KIND_STRING,
    JSON_KIND_NUMBER,
    JSON_KIND_TRUE,
    JSON_KIND_FALSE,
    JSON_KIND_NULL,
} json_kind;

/* Nesting deeper than this is rejected: it bounds the validator's stack
 * and no Celery message legitimately nests this deep. */
#define JSON_SPAN_MAX_DEPTH 512

/* Validates the value starting at *pos (after whitespace); on success fills
 * out, advances *pos past it and returns its kind, else JSON_KIND_INVALID. */
json_kind json_span_value(const char *s, size_t len, size_t *pos,
                          json_span *out);
/* The kind of the value a span holds. */
json_kind json_span_kind(json_span v);
/* 1 if the whole buffer is exactly one JSON value (whitespace around). */
int json_span_whole(const char *s, size_t len, json_span *out);

/* Iterates the elements of an array span: *pos starts at 0; returns 1 with
 * the next element in out, 0 at the end. The span must be a validated
 * array. */
int json_span_array_next(json_span arr, size_t *pos, json_span *out);
/* Iterates an object span's members: key is the raw string literal
 * (quotes included). */
int json_span_object_next(json_span obj, size_t *pos, json_span *key,
                          json_span *val);
/* 1 if key (a raw literal) equals the plain ASCII name, without escapes. */
int json_span_key_is(json_span key, const char *name);
/* Decodes a validated string span (escapes, surrogate pairs) into out,
 * appending UTF-8. Returns 0, or -1 if v is not a string or holds an
 * unpaired surrogate. */
int json_span_string(json_span v, buf *out);
/* The value of a number span as a double. Returns 0, or -1 if v is not a
 * number. */
int json_span_number(json_span v, double *out);

#endif
