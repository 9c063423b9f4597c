/* utf8: validation of UTF-8 sequences (RFC 3629), for untrusted strings. */
#ifndef POSETRACKD_UTF8_H
#define POSETRACKD_UTF8_H

#include <stddef.h>

/* Length (1..4) of the valid sequence at s, or 0 if it is invalid or
 * truncated. Overlong forms and surrogates are invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

#endif
