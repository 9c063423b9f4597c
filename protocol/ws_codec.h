/* ws_codec: the WebSocket framing of RFC 6455 §5, without I/O: frame
 * headers, masking, and a reader that turns a byte stream, in blocks of
 * any size, into whole messages and control frames. The tracker's client
 * and the tools' server share it. */
#ifndef POSETRACKD_WS_CODEC_H
#define POSETRACKD_WS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
    WS_OP_CONTINUATION = 0,
    WS_OP_TEXT = 1,
    WS_OP_BINARY = 2,
    WS_OP_CLOSE = 8,
    WS_OP_PING = 9,
    WS_OP_PONG = 10,
};

/* Close codes (§7.4.1) the peers here send. */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL_ERROR = 1002,
    WS_CLOSE_TOO_BIG = 1009,
};

/* The longest frame header; control payloads are at most 125 bytes. */
#define WS_HEADER_MAX 14
#define WS_CONTROL_MAX 125

/* Writes the header of a final frame of opcode carrying len bytes,
 * masked with mask (4 bytes) unless mask is NULL. Returns its length. */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], int opcode, uint64_t len,
                       const uint8_t *mask);
/* dst = src XOR the mask, starting at mask byte `phase` (0..3); dst may be
 * src. */
void ws_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *mask,
             size_t phase);
/* Appends a whole final frame (header and payload, masked unless mask is
 * NULL) to out. */
void ws_frame_append(buf *out, int opcode, const void *payload, size_t len,
                     const uint8_t *mask);

typedef struct ws_reader_cbs {
    /* A whole text or binary message. msg is valid during the call. */
    void (*on_message)(void *data, int opcode, const char *msg, size_t len);
    /* A message longer than the reader's limit was read and dropped. */
    void (*on_oversize)(void *data);
    /* A ping, pong or close frame and its payload. */
    void (*on_control)(void *data, int opcode, const uint8_t *payload,
                       size_t len);
} ws_reader_cbs;

/* The state of one direction of one connection. Owned by the connection;
 * ws_reader_free() releases what a long message left buffered. */
typedef struct ws_reader {
    int masked;         /* frames must be masked (a server reads them) */
    size_t max_message; /* longer messages are dropped whole */
    uint8_t hdr[WS_HEADER_MAX];
    size_t hdr_len;  /* bytes of the current header read */
    int in_payload;  /* the header is complete */
    int fin, opcode; /* of the current frame */
    uint8_t key[4];
    uint64_t remaining; /* payload bytes of the current frame to come */
    uint64_t done;      /* payload bytes of the current frame read */
    int msg_opcode;     /* text or binary of a message in fragments, or 0 */
    int dropping;       /* the message in progress is over the limit */
    uint64_t msg_len;   /* its length so far */
    buf msg;            /* its bytes (unless dropping) */
    uint8_t control[WS_CONTROL_MAX];
    int halted; /* set by a callback: read no further */
} ws_reader;

void ws_reader_init(ws_reader *r, int masked, size_t max_message);
void ws_reader_free(ws_reader *r);
/* Forgets a partly read frame or message (for a new connection). */
void ws_reader_reset(ws_reader *r);
/* From a callback: the bytes after this frame are not read (the
 * connection is going away). Cleared by ws_reader_reset(). */
void ws_reader_halt(ws_reader *r);
/* Reads len bytes, calling back for each message or control frame they
 * complete; a message that arrives whole in one block is passed where it
 * lies (unmasked in place, hence data is not const). Returns 0, or -1 on a
 * protocol error (*why says which, *close_code what to close with); the
 * connection must then be closed. */
int ws_reader_feed(ws_reader *r, uint8_t *data, size_t len,
                   const ws_reader_cbs *cbs, void *ud, const char **why,
                   int *close_code);

#endif
