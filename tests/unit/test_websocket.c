/* Unit tests for the WebSocket codec: URLs, the opening handshake (RFC
 * 6455's own example included), frame headers, masking, and the reader fed
 * in every split, with fragments, control frames, oversize messages and
 * each protocol error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "ws_codec.h"
#include "ws_handshake.h"
#include "ws_url.h"

static void urls_are_taken_apart(void **state)
{
    (void)state;
    ws_url u;
    assert_int_equal(ws_url_parse("ws://localhost:8001/ws/pose/", &u), 0);
    assert_false(u.tls);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 8001);
    assert_string_equal(u.target, "/ws/pose/");
    ws_url_free(&u);
    assert_int_equal(ws_url_parse("wss://wall.example/s?x=1#frag", &u), 0);
    assert_true(u.tls);
    assert_int_equal(u.port, 443);
    assert_false(u.port_given);
    assert_string_equal(u.target, "/s?x=1");
    ws_url_free(&u);
    assert_int_equal(ws_url_parse("ws://[::1]:9000", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    assert_string_equal(u.target, "/");
    ws_url_free(&u);
    assert_int_equal(ws_url_parse("ws://h?q", &u), 0);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.target, "/?q");
    ws_url_free(&u);
    const char *bad[] = {"http://h/",   "ws://",      "ws:///p",
                         "ws://:80/",   "ws://h:0/",  "ws://h:65536/",
                         "ws://h:/",    "ws://h:8x/", "ws://[::1/",
                         "ws://[]:80/", "ws://u@h/",  "ws://h/a b",
                         "ws://h/\x01", "wss//h/",    "ws://h:99999999999/",
                         "ws://+/x",    "ws://a+b/",  "ws://[g::1]/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ws_url_parse(bad[i], &u), -1);
        assert_null(u.host);
    }
}

static void accept_matches_the_rfc_example(void **state)
{
    (void)state;
    char accept[WS_ACCEPT_SIZE];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    ws_handshake_accept(key, strlen(key), accept);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char k1[WS_KEY_SIZE], k2[WS_KEY_SIZE];
    ws_handshake_key(k1);
    ws_handshake_key(k2);
    assert_int_equal(strlen(k1), 24);
    assert_string_not_equal(k1, k2);
}

static void handshake_round_trips(void **state)
{
    (void)state;
    ws_url u;
    assert_int_equal(ws_url_parse("ws://127.0.0.1:8002/ws/session/?a=b", &u),
                     0);
    char key[WS_KEY_SIZE];
    ws_handshake_key(key);
    buf req, path, resp;
    buf_init(&req);
    buf_init(&path);
    buf_init(&resp);
    ws_handshake_request(&req, &u, key);
    assert_non_null(strstr(req.data, "Host: 127.0.0.1:8002\r\n"));
    char accept[WS_ACCEPT_SIZE];
    size_t used = 0;
    const char *why = NULL;
    /* Every prefix is incomplete; the whole is one request. */
    for (size_t n = 0; n < req.len; n++)
        assert_int_equal(
            ws_handshake_read_request(req.data, n, &used, &path, accept, &why),
            0);
    assert_int_equal(ws_handshake_read_request(req.data, req.len, &used, &path,
                                               accept, &why),
                     1);
    assert_int_equal(used, req.len);
    assert_string_equal(path.data, "/ws/session/?a=b");
    ws_handshake_response_append(&resp, accept);
    buf_append_str(&resp, "\x81\x02hi"); /* a frame right behind it */
    assert_int_equal(
        ws_handshake_response(resp.data, resp.len, key, &used, &why), 1);
    assert_int_equal(resp.len - used, 4);
    /* Another key's answer is refused. */
    char other[WS_KEY_SIZE];
    ws_handshake_key(other);
    assert_int_equal(
        ws_handshake_response(resp.data, resp.len, other, &used, &why), -1);
    assert_string_equal(why, "wrong Sec-WebSocket-Accept");
    buf_free(&req);
    buf_free(&path);
    buf_free(&resp);
    ws_url_free(&u);
}

static void bad_handshakes_are_refused(void **state)
{
    (void)state;
    size_t used;
    const char *why = NULL;
    const char *resps[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 101 Switching\r\n\r\n",
        "HTTP/1.1 101 Switching\r\nConnection: Upgrade\r\n\r\n",
        "garbage\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++)
        assert_int_equal(
            ws_handshake_response(resps[i], strlen(resps[i]), "k", &used, &why),
            -1);
    char big[WS_HANDSHAKE_MAX + 2];
    memset(big, 'a', sizeof(big));
    assert_int_equal(ws_handshake_response(big, sizeof(big), "k", &used, &why),
                     -1);
    const char *reqs[] = {
        "POST / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, "
        "Upgrade\r\nSec-WebSocket-Version: 8\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        "GE\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
    };
    buf path;
    buf_init(&path);
    char accept[WS_ACCEPT_SIZE];
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
        assert_int_equal(ws_handshake_read_request(reqs[i], strlen(reqs[i]),
                                                   &used, &path, accept, &why),
                         -1);
    /* The token list and any case are fine. */
    const char *ok = "GET /x HTTP/1.1\r\nupgrade: WebSocket\r\nConnection: "
                     "keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_int_equal(
        ws_handshake_read_request(ok, strlen(ok), &used, &path, accept, &why),
        1);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    buf_free(&path);
}

static void headers_use_the_shortest_length(void **state)
{
    (void)state;
    uint8_t h[WS_HEADER_MAX];
    const uint8_t mask[4] = {1, 2, 3, 4};
    assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 0, NULL), 2);
    assert_int_equal(h[0], 0x81);
    assert_int_equal(h[1], 0);
    assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 125, mask), 6);
    assert_int_equal(h[1], 0x80 | 125);
    assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 126, NULL), 4);
    assert_int_equal(h[1], 126);
    assert_int_equal(h[2] << 8 | h[3], 126);
    assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 65535, NULL), 4);
    assert_int_equal(ws_frame_header(h, WS_OP_TEXT, 65536, mask), 14);
    assert_int_equal(h[1], 0x80 | 127);
    assert_int_equal(h[7], 1);
    assert_memory_equal(h + 10, mask, 4);
}

static void masking_matches_byte_by_byte(void **state)
{
    (void)state;
    uint8_t src[67], dst[67];
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 1);
    for (size_t phase = 0; phase < 4; phase++)
        for (size_t len = 0; len <= sizeof(src); len++) {
            ws_mask(dst, src, len, mask, phase);
            for (size_t i = 0; i < len; i++)
                assert_int_equal(dst[i], src[i] ^ mask[(phase + i) & 3]);
        }
}

/* What a reader reported, as text: "T:msg" "P:ping" "O" (oversize). */
typedef struct seen {
    buf log;
} seen;

static void seen_message(void *ud, int opcode, const char *msg, size_t len)
{
    seen *s = ud;
    buf_printf(&s->log, "%c:%.*s|", opcode == WS_OP_TEXT ? 'T' : 'B', (int)len,
               msg);
}

static void seen_oversize(void *ud)
{
    buf_append_str(&((seen *)ud)->log, "O|");
}

static void seen_control(void *ud, int opcode, const uint8_t *p, size_t len)
{
    seen *s = ud;
    buf_printf(&s->log, "%c:%.*s|",
               opcode == WS_OP_PING   ? 'P'
               : opcode == WS_OP_PONG ? 'Q'
                                      : 'C',
               (int)len, (const char *)p);
}

static const ws_reader_cbs seen_cbs = {seen_message, seen_oversize,
                                       seen_control};

/* A frame with fin and opcode as given (ws_frame_header only writes final
 * frames). */
static void frame(buf *out, int fin, int opcode, const char *p, size_t len,
                  const uint8_t *mask)
{
    size_t at = out->len;
    ws_frame_append(out, opcode, p, len, mask);
    if (!fin)
        out->data[at] &= 0x7f;
}

/* Feeds stream in pieces of `step` bytes (0: whole); returns the log. */
static int feed(const buf *stream, int masked, size_t max, size_t step,
                buf *log)
{
    ws_reader r;
    ws_reader_init(&r, masked, max);
    seen s;
    buf_init(&s.log);
    buf copy;
    buf_init(&copy);
    buf_append(&copy, stream->data, stream->len);
    const char *why = NULL;
    int code = 0, rc = 0;
    size_t n = step ? step : copy.len;
    for (size_t at = 0; at < copy.len && rc == 0; at += n) {
        size_t k = copy.len - at < n ? copy.len - at : n;
        rc = ws_reader_feed(&r, (uint8_t *)copy.data + at, k, &seen_cbs, &s,
                            &why, &code);
    }
    buf_reset(log);
    buf_append(log, s.log.data ? s.log.data : "", s.log.len);
    buf_free(&s.log);
    buf_free(&copy);
    ws_reader_free(&r);
    return rc;
}

static void the_reader_gives_the_same_messages_in_any_split(void **state)
{
    (void)state;
    const uint8_t mask[4] = {9, 8, 7, 6};
    for (int masked = 0; masked <= 1; masked++) {
        const uint8_t *m = masked ? mask : NULL;
        buf s;
        buf_init(&s);
        char big[300];
        memset(big, 'x', sizeof(big));
        frame(&s, 1, WS_OP_TEXT, "hello", 5, m);
        frame(&s, 0, WS_OP_TEXT, "frag", 4, m);
        frame(&s, 1, WS_OP_PING, "p1", 2, m);
        frame(&s, 0, WS_OP_CONTINUATION, "men", 3, m);
        frame(&s, 1, WS_OP_CONTINUATION, "ted", 3, m);
        frame(&s, 1, WS_OP_BINARY, big, 250, m); /* at the limit */
        frame(&s, 1, WS_OP_TEXT, "", 0, m);
        frame(&s, 1, WS_OP_PONG, "", 0, m);
        frame(&s, 1, WS_OP_TEXT, big, 251, m); /* over it */
        frame(&s, 0, WS_OP_TEXT, big, 200, m); /* so is this, in pieces */
        frame(&s, 1, WS_OP_CONTINUATION, big, 100, m);
        frame(&s, 1, WS_OP_TEXT, "end", 3, m);
        buf want, got;
        buf_init(&want);
        buf_init(&got);
        buf_append_str(&want, "T:hello|P:p1|T:fragmented|B:");
        buf_append(&want, big, 250);
        buf_append_str(&want, "|T:|Q:|O|O|T:end|");
        for (size_t step = 0; step <= 9; step++) {
            assert_int_equal(feed(&s, masked, 250, step, &got), 0);
            assert_string_equal(got.data, want.data);
        }
        buf_free(&s);
        buf_free(&want);
        buf_free(&got);
    }
}

static void protocol_errors_are_reported(void **state)
{
    (void)state;
    const uint8_t mask[4] = {1, 1, 1, 1};
    struct {
        const char *bytes;
        size_t len;
        int masked;
        int code;
    } cases[] = {
        {"\xc1\x00", 2, 0, WS_CLOSE_PROTOCOL_ERROR},         /* rsv1 */
        {"\x83\x00", 2, 0, WS_CLOSE_PROTOCOL_ERROR},         /* opcode 3 */
        {"\x8b\x00", 2, 0, WS_CLOSE_PROTOCOL_ERROR},         /* opcode 11 */
        {"\x80\x00", 2, 0, WS_CLOSE_PROTOCOL_ERROR},         /* lone cont. */
        {"\x09\x00", 2, 0, WS_CLOSE_PROTOCOL_ERROR},         /* frag. ping */
        {"\x89\x7e\x00\x7e", 4, 0, WS_CLOSE_PROTOCOL_ERROR}, /* long ping */
        {"\x81\x80\x01\x01\x01\x01", 6, 0, WS_CLOSE_PROTOCOL_ERROR},
        {"\x81\x00", 2, 1, WS_CLOSE_PROTOCOL_ERROR}, /* unmasked to server */
        {"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, 0,
         WS_CLOSE_PROTOCOL_ERROR},
        {"\x01\x01x\x81\x01y", 6, 0, WS_CLOSE_PROTOCOL_ERROR}, /* nested */
    };
    (void)mask;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ws_reader r;
        ws_reader_init(&r, cases[i].masked, 1000);
        seen s;
        buf_init(&s.log);
        uint8_t data[16];
        memcpy(data, cases[i].bytes, cases[i].len);
        const char *why = NULL;
        int code = 0;
        assert_int_equal(
            ws_reader_feed(&r, data, cases[i].len, &seen_cbs, &s, &why, &code),
            -1);
        assert_non_null(why);
        assert_int_equal(code, cases[i].code);
        buf_free(&s.log);
        ws_reader_free(&r);
    }
}

static void a_halted_reader_reads_no_further(void **state)
{
    (void)state;
    buf s, got;
    buf_init(&s);
    buf_init(&got);
    frame(&s, 1, WS_OP_CLOSE, "\x03\xe8", 2, NULL);
    frame(&s, 1, WS_OP_TEXT, "after", 5, NULL);
    ws_reader r;
    ws_reader_init(&r, 0, 100);
    seen sn;
    buf_init(&sn.log);
    const char *why;
    int code;
    /* The close callback halts, as the client does. */
    ws_reader_cbs cbs = seen_cbs;
    assert_int_equal(
        ws_reader_feed(&r, (uint8_t *)s.data, 4, &cbs, &sn, &why, &code), 0);
    ws_reader_halt(&r);
    assert_int_equal(ws_reader_feed(&r, (uint8_t *)s.data + 4, s.len - 4, &cbs,
                                    &sn, &why, &code),
                     0);
    assert_int_equal(sn.log.len, strlen("C:\x03\xe8|"));
    ws_reader_reset(&r);
    assert_int_equal(ws_reader_feed(&r, (uint8_t *)s.data + 4, s.len - 4, &cbs,
                                    &sn, &why, &code),
                     0);
    assert_non_null(strstr(sn.log.data, "T:after|"));
    ws_reader_free(&r);
    buf_free(&sn.log);
    buf_free(&s);
    buf_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urls_are_taken_apart),
        cmocka_unit_test(accept_matches_the_rfc_example),
        cmocka_unit_test(handshake_round_trips),
        cmocka_unit_test(bad_handshakes_are_refused),
        cmocka_unit_test(headers_use_the_shortest_length),
        cmocka_unit_test(masking_matches_byte_by_byte),
        cmocka_unit_test(the_reader_gives_the_same_messages_in_any_split),
        cmocka_unit_test(protocol_errors_are_reported),
        cmocka_unit_test(a_halted_reader_reads_no_further),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
