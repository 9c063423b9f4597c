/* tool_server: one libuv loop, one listener, and per connection the
 * opening handshake, a ws_reader (client frames are masked) and a
 * stream_out. Server frames are not masked, so a message goes out as a
 * header and the caller's bytes in one vectored write, with no copy
 * unless the kernel leaves some behind. */
#include "tool_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "stream_out.h"
#include "ws_codec.h"
#include "ws_handshake.h"

#define TOOL_READ_SIZE 65536
/* A daemon starting thousands of trackers connects them all at once: a
 * short queue drops SYNs, and each dropped one costs a second or more. */
#define TOOL_LISTEN_BACKLOG 4096

struct tool_conn {
    uv_tcp_t tcp;
    stream_out out;
    ws_reader reader;
    buf head; /* the request so far */
    int open, closing;
    void *data;
};

static struct {
    const char *prog;
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    tool_server_cbs cbs;
    size_t max_message;
    char rx[TOOL_READ_SIZE]; /* every read lands here */
} S;

static void conn_closed(uv_handle_t *h)
{
    tool_conn *c = h->data;
    stream_out_free(&c->out);
    ws_reader_free(&c->reader);
    buf_free(&c->head);
    free(c);
}

static void drop(tool_conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (c->open && S.cbs.on_close)
        S.cbs.on_close(c);
    c->open = 0;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static int send_frame(tool_conn *c, int opcode, const void *p, size_t len)
{
    uint8_t hdr[WS_HEADER_MAX];
    size_t n = ws_frame_header(hdr, opcode, len, NULL);
    uv_buf_t bufs[2] = {uv_buf_init((char *)hdr, (unsigned)n),
                        uv_buf_init((char *)p, (unsigned)len)};
    if (uv_is_closing((uv_handle_t *)&c->tcp) ||
        stream_out_write(&c->out, bufs, len ? 2 : 1) < 0)
        return -1;
    return 0;
}

static void drained(stream_out *o, int status)
{
    tool_conn *c = o->data;
    if (status < 0 || c->closing)
        drop(c);
}

static void close_with(tool_conn *c, int code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    c->closing = 1;
    if (send_frame(c, WS_OP_CLOSE, p, 2) < 0 || !stream_out_pending(&c->out))
        drop(c);
}

static void got_message(void *ud, int opcode, const char *msg, size_t len)
{
    tool_conn *c = ud;
    (void)opcode;
    if (c->open && !c->closing && S.cbs.on_message)
        S.cbs.on_message(c, msg, len);
}

static void got_oversize(void *ud)
{
    tool_conn *c = ud;
    ws_reader_halt(&c->reader);
    close_with(c, WS_CLOSE_TOO_BIG);
}

static void got_control(void *ud, int opcode, const uint8_t *p, size_t len)
{
    tool_conn *c = ud;
    if (opcode == WS_OP_PING) {
        if (send_frame(c, WS_OP_PONG, p, len) < 0)
            drop(c);
    } else if (opcode == WS_OP_CLOSE) {
        ws_reader_halt(&c->reader);
        close_with(c, len >= 2 ? p[0] << 8 | p[1] : WS_CLOSE_NORMAL);
    }
}

static const ws_reader_cbs reader_cbs = {got_message, got_oversize,
                                         got_control};

static void frames(tool_conn *c, uint8_t *p, size_t n)
{
    const char *why;
    int code;
    if (ws_reader_feed(&c->reader, p, n, &reader_cbs, c, &why, &code) < 0) {
        fprintf(stderr, "%s: %s\n", S.prog, why);
        close_with(c, code);
    }
}

static void handshake(tool_conn *c, const char *p, size_t n)
{
    buf_append(&c->head, p, n);
    buf path, out;
    buf_init(&path);
    buf_init(&out);
    size_t used = 0;
    const char *why = NULL;
    char accept[WS_ACCEPT_SIZE];
    int r = ws_handshake_read_request(c->head.data, c->head.len, &used, &path,
                                      accept, &why);
    if (r < 0) {
        fprintf(stderr, "%s: bad request: %s\n", S.prog, why);
        buf_append_str(&out, "HTTP/1.1 400 Bad Request\r\n"
                             "Connection: close\r\n\r\n");
        uv_buf_t b = uv_buf_init(out.data, (unsigned)out.len);
        c->closing = 1;
        if (stream_out_write(&c->out, &b, 1) < 0 ||
            !stream_out_pending(&c->out))
            drop(c);
    } else if (r > 0) {
        ws_handshake_response_append(&out, accept);
        uv_buf_t b = uv_buf_init(out.data, (unsigned)out.len);
        if (stream_out_write(&c->out, &b, 1) < 0) {
            drop(c);
        } else {
            c->open = 1;
            if (S.cbs.on_open)
                S.cbs.on_open(c, path.data);
            buf rest = c->head;
            buf_init(&c->head);
            if (c->open && rest.len > used)
                frames(c, (uint8_t *)rest.data + used, rest.len - used);
            buf_free(&rest);
        }
    }
    buf_free(&path);
    buf_free(&out);
}

static void alloc_rx(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h, (void)suggested;
    *b = uv_buf_init(S.rx, sizeof(S.rx));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    tool_conn *c = s->data;
    if (nread < 0) {
        drop(c);
        return;
    }
    if (nread == 0 || c->closing)
        return;
    if (c->open)
        frames(c, (uint8_t *)b->base, (size_t)nread);
    else
        handshake(c, b->base, (size_t)nread);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    tool_conn *c = xcalloc(1, sizeof(*c));
    uv_tcp_init(S.loop, &c->tcp);
    c->tcp.data = c;
    stream_out_init(&c->out, (uv_stream_t *)&c->tcp, drained, c);
    ws_reader_init(&c->reader, 1, S.max_message);
    buf_init(&c->head);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_rx, on_read);
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)h, (void)sig;
    tool_server_stop();
}

int tool_server_start(const char *prog, const char *host, int port,
                      size_t max_message, const tool_server_cbs *cbs)
{
    S.prog = prog;
    S.loop = uv_default_loop();
    S.cbs = *cbs;
    S.max_message = max_message;
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0) {
        fprintf(stderr, "%s: %s is not an IP address\n", prog, host);
        return -1;
    }
    uv_tcp_init(S.loop, &S.listener);
    int r = uv_tcp_bind(&S.listener, (struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&S.listener, TOOL_LISTEN_BACKLOG,
                      on_connection);
    if (r < 0) {
        fprintf(stderr, "%s: cannot listen on %s:%d: %s\n", prog, host, port,
                uv_strerror(r));
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_signal_init(S.loop, &S.sigint);
    uv_signal_init(S.loop, &S.sigterm);
    uv_signal_start(&S.sigint, on_signal, SIGINT);
    uv_signal_start(&S.sigterm, on_signal, SIGTERM);
    return 0;
}

uv_loop_t *tool_server_loop(void)
{
    return S.loop;
}

static void close_connection(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (h->type == UV_TCP && h != (uv_handle_t *)&S.listener &&
        !uv_is_closing(h))
        drop(h->data);
}

static void close_rest(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void tool_server_run(void)
{
    uv_run(S.loop, UV_RUN_DEFAULT);
    /* Stopped: connections first, so their owners close what they hold
     * (on_close), then whatever is left; then the close callbacks run. */
    uv_walk(S.loop, close_connection, NULL);
    uv_walk(S.loop, close_rest, NULL);
    uv_run(S.loop, UV_RUN_DEFAULT);
    uv_loop_close(S.loop);
}

void tool_server_stop(void)
{
    uv_stop(S.loop);
}

int tool_conn_send(tool_conn *c, const char *msg, size_t len)
{
    if (send_frame(c, WS_OP_TEXT, msg, len) < 0) {
        drop(c);
        return -1;
    }
    return 0;
}

size_t tool_conn_backlog(const tool_conn *c)
{
    return stream_out_pending(&c->out);
}

void tool_conn_close(tool_conn *c)
{
    close_with(c, WS_CLOSE_NORMAL);
}

void tool_conn_set_data(tool_conn *c, void *data)
{
    c->data = data;
}

void *tool_conn_data(const tool_conn *c)
{
    return c->data;
}

double tool_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *tool_opt(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", name);
        exit(64);
    }
    return argv[++*i];
}
