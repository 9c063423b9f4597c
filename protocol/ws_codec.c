/* ws_codec: a reader that takes the stream in whatever blocks the socket
 * gives. Headers (at most 14 bytes) are gathered into the reader; payload
 * bytes are unmasked once, either in place when a message lies whole in
 * one block (the usual case for pose frames: no copy at all) or into the
 * message buffer when it is spread over blocks or fragments. */
#include "ws_codec.h"

#include <string.h>

size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], int opcode, uint64_t len,
                       const uint8_t *mask)
{
    size_t n = 0;
    out[n++] = (uint8_t)(0x80 | (opcode & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[n++] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        out[n++] = m | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = m | 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            out[n++] = (uint8_t)(len >> shift);
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void ws_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *mask,
             size_t phase)
{
    uint8_t k[8];
    for (size_t i = 0; i < 8; i++)
        k[i] = mask[(phase + i) & 3];
    uint64_t word;
    memcpy(&word, k, 8);
    size_t i = 0;
    /* Eight bytes at a time: the mask repeats every four, so the same
     * 64-bit word fits every aligned-to-phase block. */
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v ^= word;
        memcpy(dst + i, &v, 8);
    }
    for (; i < len; i++)
        dst[i] = src[i] ^ k[i & 7];
}

void ws_frame_append(buf *out, int opcode, const void *payload, size_t len,
                     const uint8_t *mask)
{
    uint8_t hdr[WS_HEADER_MAX];
    size_t n = ws_frame_header(hdr, opcode, len, mask);
    buf_reserve(out, n + len);
    buf_append(out, hdr, n);
    uint8_t *dst = (uint8_t *)out->data + out->len;
    if (mask)
        ws_mask(dst, payload, len, mask, 0);
    else if (len)
        memcpy(dst, payload, len);
    out->len += len;
    out->data[out->len] = '\0';
}

void ws_reader_init(ws_reader *r, int masked, size_t max_message)
{
    memset(r, 0, sizeof(*r));
    r->masked = masked;
    r->max_message = max_message;
    buf_init(&r->msg);
}

void ws_reader_free(ws_reader *r)
{
    buf_free(&r->msg);
}

void ws_reader_reset(ws_reader *r)
{
    buf m = r->msg;
    int masked = r->masked;
    size_t max = r->max_message;
    memset(r, 0, sizeof(*r));
    r->masked = masked;
    r->max_message = max;
    r->msg = m;
    buf_reset(&r->msg);
}

void ws_reader_halt(ws_reader *r)
{
    r->halted = 1;
}

/* Header bytes needed, given the ones read so far. */
static size_t header_need(const ws_reader *r)
{
    if (r->hdr_len < 2)
        return 2;
    size_t ext = (r->hdr[1] & 0x7f) == 126 ? 2 : (r->hdr[1] & 0x7f) == 127;
    if (ext == 1)
        ext = 8;
    return 2 + ext + ((r->hdr[1] & 0x80) ? 4 : 0);
}

static int fail(const char **why, int *code, const char *what, int close_code)
{
    *why = what;
    *code = close_code;
    return -1;
}

/* The header is complete: check it and start the frame. */
static int begin_frame(ws_reader *r, const char **why, int *code)
{
    const uint8_t *h = r->hdr;
    r->fin = (h[0] & 0x80) != 0;
    r->opcode = h[0] & 0x0f;
    if (h[0] & 0x70)
        return fail(why, code, "reserved bits set", WS_CLOSE_PROTOCOL_ERROR);
    if (((h[1] & 0x80) != 0) != r->masked)
        return fail(why, code,
                    r->masked ? "unmasked frame from a client"
                              : "masked frame from a server",
                    WS_CLOSE_PROTOCOL_ERROR);
    uint64_t len = h[1] & 0x7f;
    size_t at = 2;
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (at = 2; at < 10; at++)
            len = len << 8 | h[at];
        if (len >> 63)
            return fail(why, code, "frame length over 2^63",
                        WS_CLOSE_PROTOCOL_ERROR);
    }
    if (r->masked)
        memcpy(r->key, h + at, 4);
    r->remaining = len;
    r->done = 0;
    if (r->opcode >= WS_OP_CLOSE) {
        if (r->opcode > WS_OP_PONG)
            return fail(why, code, "unknown opcode", WS_CLOSE_PROTOCOL_ERROR);
        if (!r->fin || len > WS_CONTROL_MAX)
            return fail(why, code, "fragmented or long control frame",
                        WS_CLOSE_PROTOCOL_ERROR);
        return 0;
    }
    if (r->opcode > WS_OP_BINARY)
        return fail(why, code, "unknown opcode", WS_CLOSE_PROTOCOL_ERROR);
    if (r->opcode == WS_OP_CONTINUATION && !r->msg_opcode)
        return fail(why, code, "continuation without a message",
                    WS_CLOSE_PROTOCOL_ERROR);
    if (r->opcode != WS_OP_CONTINUATION) {
        if (r->msg_opcode)
            return fail(why, code, "a new message inside a fragmented one",
                        WS_CLOSE_PROTOCOL_ERROR);
        r->msg_opcode = r->opcode;
        r->msg_len = 0;
        r->dropping = 0;
    }
    /* Too long is decided as soon as the header tells: the payload is
     * then read past, never buffered. */
    if (len > r->max_message - r->msg_len || r->msg_len > r->max_message) {
        r->dropping = 1;
        buf_free(&r->msg);
        buf_init(&r->msg);
    }
    r->msg_len += len;
    return 0;
}

static void end_message(ws_reader *r, const char *msg, size_t len,
                        const ws_reader_cbs *cbs, void *ud)
{
    int op = r->msg_opcode, dropping = r->dropping;
    r->msg_opcode = 0;
    r->dropping = 0;
    r->msg_len = 0;
    if (dropping) {
        if (cbs->on_oversize)
            cbs->on_oversize(ud);
    } else if (cbs->on_message) {
        cbs->on_message(ud, op, msg, len);
    }
}

/* The current frame's payload is all read. */
static void end_frame(ws_reader *r, const ws_reader_cbs *cbs, void *ud)
{
    r->in_payload = 0;
    r->hdr_len = 0;
    if (r->opcode >= WS_OP_CLOSE) {
        if (cbs->on_control)
            cbs->on_control(ud, r->opcode, r->control, (size_t)r->done);
        return;
    }
    if (!r->fin)
        return;
    end_message(r, r->msg.data ? r->msg.data : "", r->msg.len, cbs, ud);
    /* One burst of a huge message must not stay allocated. */
    if (r->msg.cap > 256 * 1024) {
        buf_free(&r->msg);
        buf_init(&r->msg);
    }
    buf_reset(&r->msg);
}

static void unmask_into(ws_reader *r, uint8_t *dst, const uint8_t *src,
                        size_t n)
{
    if (r->masked)
        ws_mask(dst, src, n, r->key, (size_t)(r->done & 3));
    else if (dst != src)
        memcpy(dst, src, n);
}

/* Takes up to len payload bytes of the current frame; returns how many. */
static size_t take_payload(ws_reader *r, uint8_t *p, size_t len,
                           const ws_reader_cbs *cbs, void *ud)
{
    size_t n = len < r->remaining ? len : (size_t)r->remaining;
    if (r->opcode >= WS_OP_CLOSE) {
        unmask_into(r, r->control + r->done, p, n);
    } else if (r->dropping) {
        /* read past */
    } else if (r->fin && r->opcode != WS_OP_CONTINUATION && r->done == 0 &&
               n == r->remaining) {
        /* A whole message in this block: hand it over where it lies. */
        unmask_into(r, p, p, n);
        r->done = n;
        r->remaining = 0;
        r->in_payload = 0;
        r->hdr_len = 0;
        end_message(r, (const char *)p, n, cbs, ud);
        return n;
    } else {
        buf_reserve(&r->msg, n);
        unmask_into(r, (uint8_t *)r->msg.data + r->msg.len, p, n);
        r->msg.len += n;
        r->msg.data[r->msg.len] = '\0';
    }
    r->done += n;
    r->remaining -= n;
    if (r->remaining == 0)
        end_frame(r, cbs, ud);
    return n;
}

int ws_reader_feed(ws_reader *r, uint8_t *data, size_t len,
                   const ws_reader_cbs *cbs, void *ud, const char **why,
                   int *close_code)
{
    size_t at = 0;
    while (at < len && !r->halted) {
        if (r->in_payload) {
            at += take_payload(r, data + at, len - at, cbs, ud);
            continue;
        }
        size_t need = header_need(r);
        while (r->hdr_len < need && at < len) {
            r->hdr[r->hdr_len++] = data[at++];
            need = header_need(r);
        }
        if (r->hdr_len < need)
            break;
        if (begin_frame(r, why, close_code) < 0)
            return -1;
        r->in_payload = 1;
        if (r->remaining == 0)
            end_frame(r, cbs, ud);
    }
    return 0;
}
