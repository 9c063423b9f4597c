/* Unit tests for stream_out, on a real socket pair under a libuv loop:
 * writes go out at once, a cork holds them for one write at the uncork,
 * and a stream the kernel refuses keeps every byte in order, cork or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream_out.h"

typedef struct pair {
    uv_loop_t loop;
    uv_pipe_t pipe;
    stream_out out;
    int peer; /* the other end, read directly */
    int drained, status;
} pair;

static void on_drained(stream_out *o, int status)
{
    pair *p = o->data;
    p->drained++;
    p->status = status;
}

static void pair_open(pair *p, int sndbuf)
{
    memset(p, 0, sizeof(*p));
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (sndbuf)
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    assert_int_equal(uv_loop_init(&p->loop), 0);
    assert_int_equal(uv_pipe_init(&p->loop, &p->pipe, 0), 0);
    assert_int_equal(uv_pipe_open(&p->pipe, sv[0]), 0);
    stream_out_init(&p->out, (uv_stream_t *)&p->pipe, on_drained, p);
    p->peer = sv[1];
}

static void pair_close(pair *p)
{
    uv_close((uv_handle_t *)&p->pipe, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    stream_out_free(&p->out);
    assert_int_equal(uv_loop_close(&p->loop), 0);
    close(p->peer);
}

static int put(pair *p, const char *s)
{
    uv_buf_t b = uv_buf_init((char *)s, (unsigned)strlen(s));
    return stream_out_write(&p->out, &b, 1);
}

/* What the peer can read now, without waiting. */
static size_t take(pair *p, char *dst, size_t cap)
{
    ssize_t n = recv(p->peer, dst, cap, MSG_DONTWAIT);
    return n < 0 ? 0 : (size_t)n;
}

static void writes_go_out_at_once(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 0);
    assert_int_equal(put(&p, "one"), 0);
    assert_int_equal(put(&p, "two"), 0);
    assert_int_equal(stream_out_pending(&p.out), 0);
    char got[16] = {0};
    assert_int_equal(take(&p, got, sizeof(got)), 6);
    assert_string_equal(got, "onetwo");
    pair_close(&p);
}

static void a_cork_holds_writes_for_one_write(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 0);
    stream_out_cork(&p.out);
    assert_int_equal(put(&p, "a"), 0);
    assert_int_equal(put(&p, "bc"), 0);
    assert_int_equal(put(&p, "def"), 0);
    char got[16] = {0};
    assert_int_equal(take(&p, got, sizeof(got)), 0);
    assert_int_equal(stream_out_pending(&p.out), 6);
    assert_false(stream_out_blocked(&p.out)); /* held, not refused */
    assert_int_equal(stream_out_uncork(&p.out), 0);
    assert_int_equal(stream_out_pending(&p.out), 0);
    assert_int_equal(take(&p, got, sizeof(got)), 6);
    assert_string_equal(got, "abcdef");
    /* Uncorked, writes go straight out again. */
    assert_int_equal(put(&p, "g"), 0);
    assert_int_equal(take(&p, got, sizeof(got)), 1);
    assert_int_equal(stream_out_uncork(&p.out), 0); /* nothing held */
    pair_close(&p);
}

/* A byte pattern that shows any loss or reordering. */
static char pattern(size_t i)
{
    return (char)('a' + (i * 7 + i / 251) % 26);
}

static void a_refused_stream_keeps_every_byte_in_order(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 4096);
    enum { CHUNK = 1000, CHUNKS = 600 };
    static char chunk[CHUNK];
    size_t written = 0;
    for (int k = 0; k < CHUNKS; k++) {
        /* Every third chunk through a cork, for one write of two. */
        if (k % 3 == 1)
            stream_out_cork(&p.out);
        for (size_t i = 0; i < CHUNK; i++)
            chunk[i] = pattern(written + i);
        uv_buf_t b = uv_buf_init(chunk, CHUNK);
        assert_int_equal(stream_out_write(&p.out, &b, 1), 0);
        written += CHUNK;
        if (k % 3 == 2)
            assert_int_equal(stream_out_uncork(&p.out), 0);
    }
    assert_int_equal(stream_out_uncork(&p.out), 0);
    /* 600 kB into a small socket buffer: the kernel refused some. */
    assert_true(stream_out_blocked(&p.out));
    size_t got = 0;
    char in[8192];
    for (int spins = 0; got < written && spins < 100000; spins++) {
        size_t n = take(&p, in, sizeof(in));
        for (size_t i = 0; i < n; i++)
            assert_int_equal(in[i], pattern(got + i));
        got += n;
        uv_run(&p.loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(got, written);
    assert_int_equal(stream_out_pending(&p.out), 0);
    assert_true(p.drained >= 1);
    assert_int_equal(p.status, 0);
    pair_close(&p);
}

static void a_failed_stream_reports_an_error(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 0);
    close(p.peer);
    p.peer = -1;
    stream_out_cork(&p.out);
    assert_int_equal(put(&p, "lost"), 0);
    assert_true(stream_out_uncork(&p.out) < 0);
    p.peer = socket(AF_UNIX, SOCK_STREAM, 0); /* for pair_close */
    pair_close(&p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemon: a write error, not a kill */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_go_out_at_once),
        cmocka_unit_test(a_cork_holds_writes_for_one_write),
        cmocka_unit_test(a_refused_stream_keeps_every_byte_in_order),
        cmocka_unit_test(a_failed_stream_reports_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
