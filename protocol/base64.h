/* base64: the RFC 4648 codec kombu uses for message bodies. */
#ifndef POSETRACKD_BASE64_H
#define POSETRACKD_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Decodes src into out (appending). Whitespace is skipped, as Python's
 * base64.b64decode does; padding is optional. Returns 0, or -1 on a byte
 * outside the alphabet or a truncated quantum. */
int base64_decode(buf *out, const char *src, size_t len);
void base64_encode(buf *out, const void *src, size_t len);

#endif
