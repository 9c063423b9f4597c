/* stream_out: two buffers, so the one being written is never moved by a
 * realloc while libuv holds it: new bytes gather in queued and swap in
 * when the write completes. A cork gathers them in queued too, with
 * nothing being written, until the uncork writes them at once. */
#include "stream_out.h"

#include <string.h>

/* The most room a buffer keeps once it is emptied. */
#define STREAM_OUT_KEEP 8192

void stream_out_init(stream_out *o, uv_stream_t *stream, stream_out_cb cb,
                     void *data)
{
    memset(o, 0, sizeof(*o));
    o->stream = stream;
    o->cb = cb;
    o->data = data;
    o->req.data = o;
    buf_init(&o->out);
    buf_init(&o->queued);
}

void stream_out_free(stream_out *o)
{
    buf_free(&o->out);
    buf_free(&o->queued);
}

size_t stream_out_pending(const stream_out *o)
{
    return (o->writing ? o->out.len : 0) + o->queued.len;
}

int stream_out_blocked(const stream_out *o)
{
    return o->writing;
}

static void written(uv_write_t *req, int status);

/* Empties b. Big room is not kept: thousands of connections would each
 * hold on to the largest batch or backlog they ever had. */
static void release(buf *b)
{
    if (b->cap > STREAM_OUT_KEEP) {
        buf_free(b);
        buf_init(b);
    } else {
        buf_reset(b);
    }
}

static int start_write(stream_out *o)
{
    uv_buf_t b = uv_buf_init(o->out.data, (unsigned)o->out.len);
    int r = uv_write(&o->req, o->stream, &b, 1, written);
    o->writing = r == 0;
    return r;
}

static void written(uv_write_t *req, int status)
{
    stream_out *o = req->data;
    o->writing = 0;
    release(&o->out);
    if (status == 0 && o->queued.len) {
        buf t = o->out;
        o->out = o->queued;
        o->queued = t;
        status = start_write(o);
        if (status == 0)
            return;
    }
    o->cb(o, status);
}

static void keep(buf *b, const uv_buf_t *bufs, unsigned n, size_t skip)
{
    for (unsigned i = 0; i < n; i++) {
        size_t len = bufs[i].len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        buf_append(b, bufs[i].base + skip, len - skip);
        skip = 0;
    }
}

/* Straight to the kernel; what it does not take goes to out, for a
 * uv_write. Only when nothing is being written. */
static int try_write(stream_out *o, const uv_buf_t *bufs, unsigned n)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int r = uv_try_write(o->stream, bufs, n);
    if (r >= 0 && (size_t)r == total)
        return 0;
    if (r < 0 && r != UV_EAGAIN)
        return r;
    buf_reset(&o->out);
    keep(&o->out, bufs, n, r > 0 ? (size_t)r : 0);
    return start_write(o);
}

int stream_out_write(stream_out *o, const uv_buf_t *bufs, unsigned n)
{
    if (o->writing || o->queued.len || o->corked) {
        keep(&o->queued, bufs, n, 0);
        return 0;
    }
    return try_write(o, bufs, n);
}

int stream_out_corked(const stream_out *o)
{
    return o->corked;
}

void stream_out_cork(stream_out *o)
{
    o->corked = 1;
}

int stream_out_uncork(stream_out *o)
{
    o->corked = 0;
    /* While a write is out, what is queued follows it on its own. */
    if (o->writing || !o->queued.len)
        return 0;
    uv_buf_t b = uv_buf_init(o->queued.data, (unsigned)o->queued.len);
    int r = try_write(o, &b, 1);
    release(&o->queued);
    return r;
}
