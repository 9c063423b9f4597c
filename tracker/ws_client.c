/* ws_client: WebSocket clients straight on the worker's libuv loop, with
 * ws_codec for the framing and OpenSSL through memory BIOs for wss://.
 *
 * A client is a small state machine:
 *   waiting -> resolving -> connecting -> handshake -> open -> (lost) ->
 *   waiting ...
 * Its one uv timer drives the backoff, the connect timeout, the keepalive
 * and the close grace, and is also how it is freed: the client's memory
 * goes in the timer's close callback.
 *
 * Each TCP connection is a ws_conn of its own, freed in its handle's close
 * callback, so a lost connection can finish closing while the client
 * already waits or reconnects: the two never share a handle.
 *
 * Why not libwebsockets: its client parser walks every payload a byte at
 * a time, about half of the daemon's time at a thousand trackers. Here a
 * read lands in one buffer shared by the loop, a message that arrives
 * whole is handed over where it lies, and a frame goes out with one
 * masking copy. What one read makes to write (a session frame for each
 * pose in it) is corked and goes out in one write() when the read is
 * handled: a daemon behind on its input catches up with a system call
 * per read, not one per frame. */
#include "ws_client.h"

#include <math.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "stream_out.h"
#include "ws_codec.h"
#include "ws_handshake.h"
#include "ws_url.h"

/* Seconds from starting to connect to the end of the handshake. */
#define WS_CLIENT_CONNECT_SECS 10
/* Every read of every client lands here first (one loop thread); it is
 * also what one stream may take in a loop turn (pause_reading). */
#define WS_HUB_READ_SIZE 65536
/* A cork holds at most this much before it writes anyway. */
#define WS_CORK_MAX (4 * WS_HUB_READ_SIZE)

struct ws_hub {
    uv_loop_t *loop;
    char *ca_file;
    SSL_CTX *tls; /* made for the first wss:// client */
    uint64_t ping_ms;
    uint64_t rng; /* masking keys */
    buf frame;    /* the frame being written */
    /* Connections whose read filled the buffer (a backlog): paused until
     * the loop's next turn, when `resume` starts them again. */
    struct ws_conn *paused;
    uv_check_t resume;
    int resume_init;
    /* While a read is handled, what it makes to write is corked, and the
     * corked connections are written at its end (batch_end). */
    int batching;
    struct ws_conn *corked;
    uint8_t rx[WS_HUB_READ_SIZE];
    uint8_t plain[WS_HUB_READ_SIZE]; /* decrypted wss:// bytes */
};

typedef enum ws_state {
    WS_WAITING,
    WS_RESOLVING,
    WS_CONNECTING,
    WS_HANDSHAKE,
    WS_OPEN,
} ws_state;

/* One TCP connection. Owned by its handle: freed in the close callback,
 * after libuv has called back every request on it. */
typedef struct ws_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    stream_out out;
    ws_hub *hub;
    ws_client *owner; /* NULL once the client has let go */
    SSL *ssl;         /* wss:// only */
    int tls_done;
    int paused; /* on the hub's paused list */
    struct ws_conn *paused_next, **paused_prev;
    struct ws_conn *corked_next; /* the hub's list, while out is corked */
} ws_conn;

/* A name lookup in libuv's thread pool; it may outlive the attempt. */
typedef struct ws_resolve {
    uv_getaddrinfo_t req;
    ws_client *owner; /* NULL once abandoned */
} ws_resolve;

typedef struct ws_reply {
    struct ws_reply *next;
    size_t len;
    char data[];
} ws_reply;

struct ws_client {
    ws_hub *hub;
    char *url;
    ws_url u;
    double delay0, delay;
    ws_client_cbs cbs;
    void *data;
    ws_state state;
    int closing, close_sent, finished;
    uv_timer_t timer;
    ws_conn *conn;
    ws_resolve *resolve;
    struct addrinfo *addrs, *next_addr; /* resolved, being tried */
    char key[WS_KEY_SIZE];
    buf head; /* the server's handshake answer so far */
    ws_reader reader;
    uint64_t last_rx; /* uv_now() of the last byte read */
    int ping_sent, ping_pending;
    int pong_pending;
    size_t pong_len;
    uint8_t pong[WS_CONTROL_MAX];
    buf latest;
    int latest_pending;
    uint64_t latest_born;
    /* Session frames held by the cork: on_sent is told when they go. */
    uint64_t *corked_born;
    size_t ncorked_born, corked_born_cap;
    ws_reply *first, *last;
    size_t nreplies;
    unsigned long connects, dropped, superseded;
};

static void lost(ws_client *c, const char *why);
static void flush(ws_client *c);
static void on_timer(uv_timer_t *t);

ws_hub *ws_hub_new(uv_loop_t *loop, const char *ca_file, double ping_interval)
{
    ws_hub *h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
    h->ping_ms = (uint64_t)(fmin(fmax(ping_interval, 0.05), 1e6) * 1000);
    if (getrandom(&h->rng, sizeof(h->rng), 0) != sizeof(h->rng))
        h->rng = uv_hrtime();
    h->rng |= 1;
    buf_init(&h->frame);
    return h;
}

static void hub_closed(uv_handle_t *handle)
{
    ws_hub *h = handle->data;
    if (h->tls)
        SSL_CTX_free(h->tls);
    buf_free(&h->frame);
    free(h->ca_file);
    free(h);
}

void ws_hub_free(ws_hub *h)
{
    if (!h)
        return;
    if (!h->resume_init) {
        h->resume.data = h;
        hub_closed((uv_handle_t *)&h->resume);
        return;
    }
    /* The loop has finished: one more turn runs the close callback. */
    uv_close((uv_handle_t *)&h->resume, hub_closed);
    uv_run(h->loop, UV_RUN_NOWAIT);
}

/* The client TLS context: the system's CAs plus --ws-ca-file, peers
 * verified. NULL with *why on failure. */
static SSL_CTX *hub_tls(ws_hub *h, const char **why)
{
    if (h->tls)
        return h->tls;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        *why = "cannot create a TLS context";
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_verify_paths(ctx);
    if (h->ca_file &&
        SSL_CTX_load_verify_locations(ctx, h->ca_file, NULL) != 1) {
        SSL_CTX_free(ctx);
        *why = "cannot load --ws-ca-file";
        return NULL;
    }
    h->tls = ctx;
    return ctx;
}

/* xorshift64*: masking keys only have to vary (RFC 6455 §10.3 guards
 * proxies against payloads a script chose; ours are not). */
static void next_mask(ws_hub *h, uint8_t mask[4])
{
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    uint32_t v = (uint32_t)((h->rng * 2685821657736338717ULL) >> 32);
    memcpy(mask, &v, 4);
}

/* ---- connections: bytes in and out ---- */

static void unpause(ws_conn *conn)
{
    if (!conn->paused)
        return;
    *conn->paused_prev = conn->paused_next;
    if (conn->paused_next)
        conn->paused_next->paused_prev = conn->paused_prev;
    conn->paused = 0;
}

static void conn_closed(uv_handle_t *handle)
{
    ws_conn *conn = handle->data;
    unpause(conn);
    if (conn->ssl)
        SSL_free(conn->ssl);
    stream_out_free(&conn->out);
    free(conn);
}

/* The kernel takes no more for now: bytes wait in user space. */
static int backed_up(const ws_conn *conn)
{
    return stream_out_blocked(&conn->out);
}

/* A session frame is out (or in the cork, to be reported when it goes). */
static void frame_sent(ws_client *c, uint64_t born)
{
    if (!c->cbs.on_sent)
        return;
    if (!c->conn || !stream_out_corked(&c->conn->out)) {
        c->cbs.on_sent(c, born, c->data);
        return;
    }
    if (c->ncorked_born == c->corked_born_cap) {
        c->corked_born_cap = c->corked_born_cap ? 2 * c->corked_born_cap : 16;
        c->corked_born =
            xrealloc(c->corked_born, c->corked_born_cap * sizeof(uint64_t));
    }
    c->corked_born[c->ncorked_born++] = born;
}

/* Writes what the cork holds and reports its session frames as sent.
 * Returns 0, or a libuv error. */
static int uncork(ws_conn *conn)
{
    if (!stream_out_corked(&conn->out))
        return 0;
    int r = stream_out_uncork(&conn->out);
    ws_client *c = conn->owner;
    if (c && c->conn == conn) {
        for (size_t i = 0; r == 0 && i < c->ncorked_born && c->cbs.on_sent; i++)
            c->cbs.on_sent(c, c->corked_born[i], c->data);
        c->ncorked_born = 0;
    }
    return r;
}

static int raw_write(ws_conn *conn, const char *p, size_t n)
{
    ws_hub *h = conn->hub;
    if (h->batching && !stream_out_corked(&conn->out)) {
        conn->corked_next = h->corked;
        h->corked = conn;
        stream_out_cork(&conn->out);
    }
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    if (stream_out_write(&conn->out, &b, 1) < 0)
        return -1;
    /* Still on the hub's list: corked again, it is written at the end. */
    if (stream_out_corked(&conn->out) &&
        stream_out_pending(&conn->out) >= WS_CORK_MAX) {
        int r = uncork(conn);
        stream_out_cork(&conn->out);
        return r < 0 ? -1 : 0;
    }
    return 0;
}

static void batch_begin(ws_hub *h)
{
    h->batching++;
}

/* The read is handled: each connection it wrote to gets one write. */
static void batch_end(ws_hub *h)
{
    if (--h->batching)
        return;
    while (h->corked) {
        ws_conn *conn = h->corked;
        h->corked = conn->corked_next;
        ws_client *c = conn->owner;
        int r = uncork(conn);
        if (!c || c->conn != conn)
            continue;
        if (r < 0)
            lost(c, "write failed");
        else
            flush(c); /* a close may now be complete */
    }
}

/* Everything written is out (or the stream failed). */
static void drained(stream_out *o, int status)
{
    ws_conn *conn = o->data;
    if (!conn->owner)
        return;
    if (status < 0)
        lost(conn->owner, "write failed");
    else
        flush(conn->owner);
}

/* What OpenSSL has encrypted goes to the socket. */
static int pump_tls(ws_conn *conn)
{
    BIO *wbio = SSL_get_wbio(conn->ssl);
    char *p;
    long n = BIO_get_mem_data(wbio, &p);
    if (n <= 0)
        return 0;
    int r = raw_write(conn, p, (size_t)n);
    (void)BIO_reset(wbio);
    return r;
}

/* Plain bytes onto the connection, through TLS for wss://. */
static int conn_write(ws_conn *conn, const void *p, size_t n)
{
    if (!conn->ssl)
        return raw_write(conn, p, n);
    ERR_clear_error();
    if (SSL_write(conn->ssl, p, (int)n) != (int)n)
        return -1;
    return pump_tls(conn);
}

/* One masked frame. Returns 0, or -1 after giving up the connection. */
static int send_frame(ws_client *c, int opcode, const void *p, size_t n)
{
    ws_hub *h = c->hub;
    uint8_t mask[4];
    next_mask(h, mask);
    buf_reset(&h->frame);
    ws_frame_append(&h->frame, opcode, p, n, mask);
    if (conn_write(c->conn, h->frame.data, h->frame.len) < 0) {
        lost(c, "write failed");
        return -1;
    }
    /* A burst of one huge reply must not stay allocated. */
    if (h->frame.cap > 4 * WS_HUB_READ_SIZE) {
        buf_free(&h->frame);
        buf_init(&h->frame);
    }
    return 0;
}

/* ---- the client's life ---- */

static void free_client(uv_handle_t *t)
{
    ws_client *c = t->data;
    ws_reply *r = c->first;
    while (r) {
        ws_reply *next = r->next;
        free(r);
        r = next;
    }
    ws_reader_free(&c->reader);
    buf_free(&c->head);
    buf_free(&c->latest);
    free(c->corked_born);
    ws_url_free(&c->u);
    free(c->url);
    free(c);
}

/* Lets go of the connection and any lookup in progress. */
static void detach(ws_client *c)
{
    if (c->resolve) {
        c->resolve->owner = NULL;
        c->resolve = NULL;
    }
    if (c->addrs) {
        uv_freeaddrinfo(c->addrs);
        c->addrs = c->next_addr = NULL;
    }
    ws_conn *conn = c->conn;
    if (conn) {
        uncork(conn); /* what is held goes first (a close frame, say) */
        c->conn = NULL;
        conn->owner = NULL;
        uv_close((uv_handle_t *)&conn->tcp, conn_closed);
    }
    ws_reader_reset(&c->reader);
    buf_reset(&c->head);
    c->ping_sent = c->ping_pending = c->pong_pending = c->close_sent = 0;
}

static void finish_close(ws_client *c)
{
    if (c->finished)
        return;
    c->finished = 1;
    detach(c);
    c->state = WS_WAITING;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, free_client);
}

/* The connection failed or ended: wait, then try again. */
static void lost(ws_client *c, const char *why)
{
    detach(c);
    if (c->state == WS_WAITING)
        return;
    c->state = WS_WAITING;
    if (c->closing) {
        finish_close(c);
        return;
    }
    double wait = c->delay;
    c->delay = fmin(c->delay * 2, WS_CLIENT_MAX_DELAY);
    uv_timer_start(&c->timer, on_timer, (uint64_t)(wait * 1000), 0);
    if (c->cbs.on_down)
        c->cbs.on_down(c, why, wait, c->data);
}

static void lost_uv(ws_client *c, const char *what, int err)
{
    char why[160];
    snprintf(why, sizeof(why), "%s: %s", what, uv_strerror(err));
    lost(c, why);
}

static void send_request(ws_client *c)
{
    buf req;
    buf_init(&req);
    ws_handshake_key(c->key);
    ws_handshake_request(&req, &c->u, c->key);
    c->state = WS_HANDSHAKE;
    int r = conn_write(c->conn, req.data, req.len);
    buf_free(&req);
    if (r < 0)
        lost(c, "cannot send the handshake");
}

static void opened(ws_client *c)
{
    c->state = WS_OPEN;
    c->delay = c->delay0;
    c->connects++;
    c->last_rx = uv_now(c->hub->loop);
    uv_timer_start(&c->timer, on_timer, c->hub->ping_ms, 0);
    if (c->cbs.on_open)
        c->cbs.on_open(c, c->data);
    flush(c);
}

static void tls_failed(ws_client *c)
{
    char why[200];
    long v = SSL_get_verify_result(c->conn->ssl);
    unsigned long e = ERR_peek_last_error();
    if (v != X509_V_OK)
        snprintf(why, sizeof(why), "TLS: certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    else
        snprintf(why, sizeof(why), "TLS: %s",
                 e ? ERR_reason_error_string(e) : "handshake failed");
    lost(c, why);
}

/* Advances the TLS handshake; sends the upgrade once it is done. */
static void tls_step(ws_client *c)
{
    ws_conn *conn = c->conn;
    ERR_clear_error();
    int r = SSL_do_handshake(conn->ssl);
    if (pump_tls(conn) < 0) {
        lost(c, "write failed");
        return;
    }
    if (r == 1) {
        conn->tls_done = 1;
        send_request(c);
        return;
    }
    int e = SSL_get_error(conn->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        tls_failed(c);
}

static int start_tls(ws_client *c)
{
    const char *why = NULL;
    SSL_CTX *ctx = hub_tls(c->hub, &why);
    if (!ctx) {
        lost(c, why);
        return -1;
    }
    SSL *ssl = SSL_new(ctx);
    c->conn->ssl = ssl;
    SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl);
    /* The certificate must name what the URL names: an address, or a
     * host (which is also sent as SNI). */
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, c->u.host) != 1) {
        SSL_set_tlsext_host_name(ssl, c->u.host);
        X509_VERIFY_PARAM_set1_host(param, c->u.host, 0);
    }
    tls_step(c);
    return 0;
}

/* ---- reading ---- */

static void reader_message(void *ud, int opcode, const char *msg, size_t len)
{
    ws_client *c = ud;
    (void)opcode;
    if (!c->closing && c->cbs.on_message)
        c->cbs.on_message(c, msg, len, c->data);
}

static void reader_oversize(void *ud)
{
    ws_client *c = ud;
    if (!c->closing && c->cbs.on_oversize)
        c->cbs.on_oversize(c, c->data);
}

static void reader_control(void *ud, int opcode, const uint8_t *p, size_t len)
{
    ws_client *c = ud;
    if (opcode == WS_OP_PING) {
        memcpy(c->pong, p, len);
        c->pong_len = len;
        c->pong_pending = 1;
        flush(c);
    } else if (opcode == WS_OP_CLOSE) {
        /* Echo the close (its code only) and go: the server ends TCP. */
        if (!c->close_sent && c->conn)
            send_frame(c, WS_OP_CLOSE, p, len < 2 ? len : 2);
        ws_reader_halt(&c->reader);
        lost(c, "connection closed by the server");
    }
}

static const ws_reader_cbs reader_cbs = {
    .on_message = reader_message,
    .on_oversize = reader_oversize,
    .on_control = reader_control,
};

static void handshake_bytes(ws_client *c, const uint8_t *p, size_t n)
{
    buf_append(&c->head, p, n);
    size_t used = 0;
    const char *why = NULL;
    int r =
        ws_handshake_response(c->head.data, c->head.len, c->key, &used, &why);
    if (r == 0)
        return;
    if (r < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "handshake: %s", why);
        lost(c, msg);
        return;
    }
    /* Frames may follow the head in the same read. */
    buf rest = c->head;
    buf_init(&c->head);
    opened(c);
    if (c->state == WS_OPEN && rest.len > used) {
        const char *err;
        int code;
        if (ws_reader_feed(&c->reader, (uint8_t *)rest.data + used,
                           rest.len - used, &reader_cbs, c, &err, &code) < 0)
            lost(c, err);
    }
    buf_free(&rest);
}

static void on_bytes(ws_client *c, uint8_t *p, size_t n)
{
    if (c->state == WS_HANDSHAKE) {
        handshake_bytes(c, p, n);
        return;
    }
    const char *why;
    int code;
    if (ws_reader_feed(&c->reader, p, n, &reader_cbs, c, &why, &code) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "protocol error: %s", why);
        lost(c, msg);
    }
}

/* Decrypts what arrived and reads it, as long as the connection stands. */
static void tls_bytes(ws_client *c, ws_conn *conn, const char *p, size_t n)
{
    BIO_write(SSL_get_rbio(conn->ssl), p, (int)n);
    if (!conn->tls_done) {
        tls_step(c);
        if (c->conn != conn || !conn->tls_done)
            return;
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(conn->ssl, c->hub->plain, sizeof(c->hub->plain));
        if (r > 0) {
            on_bytes(c, c->hub->plain, (size_t)r);
            if (c->conn != conn)
                return;
            continue;
        }
        int e = SSL_get_error(conn->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            if (pump_tls(conn) < 0)
                lost(c, "write failed");
            return;
        }
        if (e == SSL_ERROR_ZERO_RETURN)
            lost(c, "connection closed");
        else
            tls_failed(c);
        return;
    }
}

static void alloc_rx(uv_handle_t *handle, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b);

/* The loop's turn is over: the paused connections read again. */
static void resume_reads(uv_check_t *check)
{
    ws_hub *h = check->data;
    while (h->paused) {
        ws_conn *conn = h->paused;
        unpause(conn);
        if (!conn->owner)
            continue;
        int r = uv_read_start((uv_stream_t *)&conn->tcp, alloc_rx, on_read);
        if (r < 0)
            lost_uv(conn->owner, "cannot read", r);
    }
    uv_check_stop(check);
}

/* A read filled the buffer, so more is waiting: libuv would read the
 * socket dry in this turn (up to 32 reads, and again in each of its
 * polls before the turn ends), and a daemon behind on thousands of
 * streams went seconds between turns, its timers (PROGRESS, keepalive,
 * connect timeouts) and Redis waiting. One buffer per stream per turn
 * keeps turns short and the streams fair. */
static void pause_reading(ws_conn *conn)
{
    ws_hub *h = conn->hub;
    if (conn->paused || uv_read_stop((uv_stream_t *)&conn->tcp) < 0)
        return;
    if (!h->resume_init) {
        uv_check_init(h->loop, &h->resume);
        h->resume.data = h;
        h->resume_init = 1;
    }
    conn->paused = 1;
    conn->paused_next = h->paused;
    conn->paused_prev = &h->paused;
    if (h->paused)
        h->paused->paused_prev = &conn->paused_next;
    h->paused = conn;
    uv_check_start(&h->resume, resume_reads);
}

static void alloc_rx(uv_handle_t *handle, size_t suggested, uv_buf_t *b)
{
    ws_conn *conn = handle->data;
    (void)suggested;
    *b = uv_buf_init((char *)conn->hub->rx, sizeof(conn->hub->rx));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
    ws_conn *conn = stream->data;
    ws_client *c = conn->owner;
    if (!c || nread == 0)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            lost(c, "connection closed");
        else
            lost_uv(c, "read failed", (int)nread);
        return;
    }
    c->last_rx = uv_now(c->hub->loop);
    c->ping_sent = 0;
    ws_hub *h = conn->hub;
    batch_begin(h);
    if (conn->ssl)
        tls_bytes(c, conn, b->base, (size_t)nread);
    else
        on_bytes(c, (uint8_t *)b->base, (size_t)nread);
    if ((size_t)nread == WS_HUB_READ_SIZE && c->conn == conn)
        pause_reading(conn);
    batch_end(h);
}

/* ---- connecting ---- */

static void try_connect(ws_client *c, const struct sockaddr *addr);

static void on_connected(uv_connect_t *req, int status)
{
    ws_conn *conn = req->handle->data;
    ws_client *c = conn->owner;
    if (!c)
        return;
    if (status < 0) {
        /* Another address of the name may answer. */
        if (c->next_addr) {
            const struct sockaddr *next = c->next_addr->ai_addr;
            c->next_addr = c->next_addr->ai_next;
            ws_conn *old = c->conn;
            c->conn = NULL;
            old->owner = NULL;
            uv_close((uv_handle_t *)&old->tcp, conn_closed);
            try_connect(c, next);
            return;
        }
        lost_uv(c, "cannot connect", status);
        return;
    }
    uv_freeaddrinfo(c->addrs);
    c->addrs = c->next_addr = NULL;
    int r = uv_read_start((uv_stream_t *)&conn->tcp, alloc_rx, on_read);
    if (r < 0) {
        lost_uv(c, "cannot read", r);
        return;
    }
    if (c->u.tls)
        start_tls(c);
    else
        send_request(c);
}

static void try_connect(ws_client *c, const struct sockaddr *addr)
{
    ws_conn *conn = xcalloc(1, sizeof(*conn));
    conn->hub = c->hub;
    conn->owner = c;
    uv_tcp_init(c->hub->loop, &conn->tcp);
    stream_out_init(&conn->out, (uv_stream_t *)&conn->tcp, drained, conn);
    conn->tcp.data = conn;
    c->conn = conn;
    c->state = WS_CONNECTING;
    uv_tcp_nodelay(&conn->tcp, 1);
    int r = uv_tcp_connect(&conn->connect, &conn->tcp, addr, on_connected);
    if (r < 0)
        lost_uv(c, "cannot connect", r);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ws_resolve *rs = (ws_resolve *)req;
    ws_client *c = rs->owner;
    free(rs);
    if (!c) {
        uv_freeaddrinfo(res);
        return;
    }
    c->resolve = NULL;
    if (status < 0 || !res) {
        lost_uv(c, "cannot resolve the host",
                status < 0 ? status : UV_EAI_NONAME);
        return;
    }
    c->addrs = res;
    c->next_addr = res->ai_next;
    try_connect(c, res->ai_addr);
}

static void connect_now(ws_client *c)
{
    c->state = WS_RESOLVING;
    uv_timer_start(&c->timer, on_timer, WS_CLIENT_CONNECT_SECS * 1000, 0);
    /* An address in the URL needs no lookup (and no thread). */
    struct sockaddr_storage ss;
    if (uv_ip4_addr(c->u.host, c->u.port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(c->u.host, c->u.port, (struct sockaddr_in6 *)&ss) == 0) {
        try_connect(c, (const struct sockaddr *)&ss);
        return;
    }
    ws_resolve *rs = xcalloc(1, sizeof(*rs));
    rs->owner = c;
    c->resolve = rs;
    char port[8];
    snprintf(port, sizeof(port), "%d", c->u.port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int r = uv_getaddrinfo(c->hub->loop, &rs->req, on_resolved, c->u.host, port,
                           &hints);
    if (r < 0) {
        free(rs);
        c->resolve = NULL;
        lost_uv(c, "cannot resolve the host", r);
    }
}

/* Open: checks the link. Quiet for a ping interval: ping; quiet for two:
 * hang up. Data moves the deadline, so a busy link costs no timer work. */
static void keepalive(ws_client *c)
{
    uint64_t now = uv_now(c->hub->loop), ping = c->hub->ping_ms;
    uint64_t idle = now - c->last_rx;
    if (idle >= 2 * ping) {
        lost(c, "no answer to ping");
        return;
    }
    if (idle >= ping && !c->ping_sent) {
        c->ping_sent = c->ping_pending = 1;
        flush(c);
        if (c->state != WS_OPEN)
            return;
    }
    uint64_t due = c->last_rx + (c->ping_sent ? 2 * ping : ping);
    uv_timer_start(&c->timer, on_timer, due > now ? due - now : 1, 0);
}

static void on_timer(uv_timer_t *t)
{
    ws_client *c = t->data;
    switch (c->state) {
    case WS_WAITING:
        connect_now(c);
        break;
    case WS_RESOLVING:
    case WS_CONNECTING:
    case WS_HANDSHAKE:
        lost(c, "timed out connecting");
        break;
    case WS_OPEN:
        if (c->closing)
            finish_close(c); /* the close grace ran out */
        else
            keepalive(c);
        break;
    }
}

ws_client *ws_client_open(ws_hub *h, const char *url, double reconnect_delay,
                          size_t max_message, const ws_client_cbs *cbs,
                          void *data)
{
    ws_client *c = xcalloc(1, sizeof(*c));
    c->hub = h;
    c->url = xstrdup(url);
    if (ws_url_parse(url, &c->u) < 0) {
        c->u.host = xstrdup("");
        c->u.target = xstrdup("/");
    }
    c->delay0 = c->delay = reconnect_delay;
    c->cbs = *cbs;
    c->data = data;
    ws_reader_init(&c->reader, 0, max_message);
    buf_init(&c->head);
    buf_init(&c->latest);
    uv_timer_init(h->loop, &c->timer);
    c->timer.data = c;
    connect_now(c);
    return c;
}

/* ---- writing ---- */

/* Writes what waits, while the socket takes it: a ping or pong, the replies in
 * order, then the latest state; when closing, then the close frame. */
static void flush(ws_client *c)
{
    while (c->state == WS_OPEN && c->conn && !backed_up(c->conn)) {
        if (c->ping_pending) {
            c->ping_pending = 0;
            if (send_frame(c, WS_OP_PING, "", 0) < 0)
                return;
        } else if (c->pong_pending) {
            c->pong_pending = 0;
            if (send_frame(c, WS_OP_PONG, c->pong, c->pong_len) < 0)
                return;
        } else if (c->first) {
            ws_reply *r = c->first;
            c->first = r->next;
            if (!c->first)
                c->last = NULL;
            c->nreplies--;
            int ok = send_frame(c, WS_OP_TEXT, r->data, r->len);
            free(r);
            if (ok < 0)
                return;
        } else if (c->latest_pending) {
            c->latest_pending = 0;
            if (send_frame(c, WS_OP_TEXT, c->latest.data, c->latest.len) < 0)
                return;
            frame_sent(c, c->latest_born);
        } else if (c->closing && !c->close_sent) {
            uint8_t code[2] = {WS_CLOSE_NORMAL >> 8, WS_CLOSE_NORMAL & 0xff};
            c->close_sent = 1;
            if (send_frame(c, WS_OP_CLOSE, code, 2) < 0)
                return;
        } else {
            break;
        }
    }
    /* Only once the close frame is out of the cork too. */
    if (c->closing && c->close_sent && c->conn &&
        stream_out_pending(&c->conn->out) == 0)
        finish_close(c);
}

void ws_client_send_latest(ws_client *c, const char *msg, size_t len,
                           uint64_t born_ns)
{
    if (c->latest_pending)
        c->superseded++;
    c->latest_born = born_ns;
    /* Nothing ahead of it and the socket taking bytes: straight out, with
     * no copy into latest. */
    if (c->state == WS_OPEN && c->conn && !backed_up(c->conn) && !c->first &&
        !c->pong_pending && !c->ping_pending && !c->closing) {
        c->latest_pending = 0;
        if (send_frame(c, WS_OP_TEXT, msg, len) == 0)
            frame_sent(c, born_ns);
        return;
    }
    buf_reset(&c->latest);
    buf_append(&c->latest, msg, len);
    c->latest_pending = 1;
}

int ws_client_send_reply(ws_client *c, const char *msg, size_t len)
{
    if (c->nreplies == WS_CLIENT_MAX_REPLIES) {
        c->dropped++;
        return -1;
    }
    ws_reply *r = xmalloc(sizeof(*r) + len);
    r->next = NULL;
    r->len = len;
    memcpy(r->data, msg, len);
    if (c->last)
        c->last->next = r;
    else
        c->first = r;
    c->last = r;
    c->nreplies++;
    flush(c);
    return 0;
}

void ws_client_close(ws_client *c)
{
    c->closing = 1;
    memset(&c->cbs, 0, sizeof(c->cbs));
    if (c->state != WS_OPEN) {
        finish_close(c); /* nothing to flush: drop any attempt */
        return;
    }
    /* Open: what is pending goes out first, for at most the grace. */
    uv_timer_start(&c->timer, on_timer, WS_CLIENT_CLOSE_SECS * 1000, 0);
    flush(c);
}

int ws_client_is_open(const ws_client *c)
{
    return c->state == WS_OPEN;
}

const char *ws_client_url(const ws_client *c)
{
    return c->url;
}

unsigned long ws_client_connects(const ws_client *c)
{
    return c->connects;
}

unsigned long ws_client_dropped(const ws_client *c)
{
    return c->dropped;
}

unsigned long ws_client_superseded(const ws_client *c)
{
    return c->superseded;
}
