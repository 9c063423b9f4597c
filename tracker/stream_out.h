/* stream_out: ordered writes to a libuv stream that never block: bytes go
 * to the kernel at once when it takes them (uv_try_write), and what it
 * does not take waits, in order, for one uv_write at a time. The
 * WebSocket client and the tools' server write through it. */
#ifndef POSETRACKD_STREAM_OUT_H
#define POSETRACKD_STREAM_OUT_H

#include <stddef.h>
#include <uv.h>

#include "buf.h"

typedef struct stream_out stream_out;

/* status 0: everything written so far is out (the owner may write more);
 * < 0: the stream failed (or was closed with writes pending). */
typedef void (*stream_out_cb)(stream_out *o, int status);

/* Embedded in its owner, which frees it with stream_out_free() in the
 * stream's close callback (libuv calls back every pending write first). */
struct stream_out {
    uv_stream_t *stream;
    uv_write_t req;
    stream_out_cb cb;
    void *data;
    int writing; /* out is in the uv_write */
    int corked;  /* writes gather in queued until stream_out_uncork() */
    buf out;     /* the bytes of that write */
    buf queued;  /* bytes behind it, or held by the cork */
};

void stream_out_init(stream_out *o, uv_stream_t *stream, stream_out_cb cb,
                     void *data);
void stream_out_free(stream_out *o);
/* Writes the buffers' bytes after everything before them. Returns 0, or a
 * libuv error if the stream has failed. */
int stream_out_write(stream_out *o, const uv_buf_t *bufs, unsigned n);
/* Bytes handed over and not yet taken by the kernel. */
size_t stream_out_pending(const stream_out *o);
/* Whether the kernel has refused bytes (a uv_write waits for room), as
 * opposed to bytes only held by the cork. */
int stream_out_blocked(const stream_out *o);
/* Whether writes are held by a cork. */
int stream_out_corked(const stream_out *o);
/* Holds writes back, to go out together in one write at the uncork: many
 * small messages made in one go then cost one system call and one TCP
 * segment, not one each. */
void stream_out_cork(stream_out *o);
/* Writes what the cork held. Returns 0, or a libuv error if the stream
 * has failed. */
int stream_out_uncork(stream_out *o);

#endif
