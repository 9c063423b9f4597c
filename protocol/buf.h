/* buf: a growable byte buffer that carries its length.
 *
 * Every encoder in posetrackd writes into a buf. Data is never assumed to be
 * NUL-terminated, but buf keeps a NUL after the last byte so a finished
 * buffer can be handed to APIs that want a C string. The owner of a buf
 * releases it with buf_free(). Allocation failure aborts: it is the one
 * condition a daemon cannot answer with an error reply. */
#ifndef POSETRACKD_BUF_H
#define POSETRACKD_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t len);
void buf_append_str(buf *b, const char *s);
void buf_append_char(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. Bytes that are not
 * valid UTF-8 are replaced by U+FFFD so the output is always valid JSON. */
void buf_append_json_str(buf *b, const char *s, size_t len);
/* Appends v as a JSON number rounded to places decimals (at most 8),
 * without trailing zeros: 0.5, -12, 0.123457. */
void buf_append_decimal(buf *b, double v, int places);
/* The longest text buf_format_decimal() writes. */
#define BUF_DECIMAL_MAX 32
/* The same into dst (BUF_DECIMAL_MAX bytes, not terminated); returns the
 * length, for writers that have reserved room for many numbers. */
size_t buf_format_decimal(char *dst, double v, int places);
/* Hands the bytes to the caller (who frees them with free()) and leaves b
 * empty. */
char *buf_detach(buf *b, size_t *len);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
