/* base64: decoding is on the hot path of every Redis message, so it is one
 * loop over 4-byte quanta with no per-byte allocation. */
#include "base64.h"

#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet bytes, 64 for '=', 65 for whitespace, 255 invalid.
 * Arithmetic rather than a lazily built table, so it is safe on any thread. */
static uint8_t decode_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (uint8_t)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (uint8_t)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (uint8_t)(c - '0' + 52);
    switch (c) {
    case '+':
        return 62;
    case '/':
        return 63;
    case '=':
        return 64;
    case ' ':
    case '\n':
    case '\r':
    case '\t':
        return 65;
    default:
        return 255;
    }
}

int base64_decode(buf *out, const char *src, size_t len)
{
    buf_reserve(out, len / 4 * 3 + 3);
    uint32_t acc = 0;
    int have = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t v = decode_value((unsigned char)src[i]);
        if (v == 65)
            continue;
        if (v == 255)
            return -1;
        if (v == 64) {
            pad++;
            continue;
        }
        if (pad)
            return -1; /* data after padding */
        acc = (acc << 6) | v;
        if (++have == 4) {
            char o[3] = {(char)(acc >> 16), (char)(acc >> 8), (char)acc};
            buf_append(out, o, 3);
            acc = 0;
            have = 0;
        }
    }
    if (have == 1)
        return -1;
    if (have == 2) {
        char o = (char)(acc >> 4);
        buf_append(out, &o, 1);
    } else if (have == 3) {
        char o[2] = {(char)(acc >> 10), (char)(acc >> 2)};
        buf_append(out, o, 2);
    }
    if (pad > 2)
        return -1;
    return 0;
}

void base64_encode(buf *out, const void *src, size_t len)
{
    const unsigned char *s = src;
    buf_reserve(out, (len + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char o[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63],
                     alphabet[(v >> 6) & 63], alphabet[v & 63]};
        buf_append(out, o, 4);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        char o[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], '=', '='};
        buf_append(out, o, 4);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        char o[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63],
                     alphabet[(v >> 6) & 63], '='};
        buf_append(out, o, 4);
    }
}
