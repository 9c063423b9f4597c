/* libFuzzer target: the WebSocket codec on arbitrary bytes. The first
 * byte picks the side (masked frames or not), a message size limit and a
 * block size; the rest is a byte stream read whole and again in blocks,
 * and both readings must report the same messages and control frames,
 * and the same error. The handshake readers and the URL parser get the
 * same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ws_codec.h"
#include "ws_handshake.h"
#include "ws_url.h"

static void note_message(void *ud, int opcode, const char *msg, size_t len)
{
    buf *log = ud;
    buf_printf(log, "m%d:%zu:", opcode, len);
    buf_append(log, msg, len);
}

static void note_oversize(void *ud)
{
    buf_append_str(ud, "o;");
}

static void note_control(void *ud, int opcode, const uint8_t *p, size_t len)
{
    if (len > WS_CONTROL_MAX)
        abort();
    buf *log = ud;
    buf_printf(log, "c%d:%zu:", opcode, len);
    buf_append(log, p, len);
}

static const ws_reader_cbs cbs = {note_message, note_oversize, note_control};

/* Reads data in blocks of step (0: whole); returns the log and the error. */
static int read_all(const uint8_t *data, size_t len, int masked, size_t max,
                    size_t step, buf *log)
{
    ws_reader r;
    ws_reader_init(&r, masked, max);
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    const char *why = NULL;
    int code = 0, rc = 0;
    size_t n = step ? step : len;
    for (size_t at = 0; at < len && rc == 0; at += n)
        rc = ws_reader_feed(&r, copy + at, len - at < n ? len - at : n, &cbs,
                            log, &why, &code);
    if (rc < 0) {
        if (!why || code < 1000)
            abort();
        buf_printf(log, "error:%s", why);
    }
    free(copy);
    ws_reader_free(&r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int masked = data[0] & 1;
    size_t max = (size_t)(data[0] >> 1) * 16;
    size_t step = 1 + (data[0] >> 4);
    buf whole, pieces;
    buf_init(&whole);
    buf_init(&pieces);
    read_all(data + 1, size - 1, masked, max, 0, &whole);
    read_all(data + 1, size - 1, masked, max, step, &pieces);
    if (whole.len != pieces.len ||
        (whole.len && memcmp(whole.data, pieces.data, whole.len) != 0))
        abort();
    buf_free(&whole);
    buf_free(&pieces);

    const char *text = (const char *)data + 1;
    size_t used = 0;
    const char *why = NULL;
    char accept[WS_ACCEPT_SIZE];
    buf path;
    buf_init(&path);
    if (ws_handshake_response(text, size - 1, "dGhlIHNhbXBsZSBub25jZQ==", &used,
                              &why) > 0 &&
        used > size - 1)
        abort();
    if (ws_handshake_read_request(text, size - 1, &used, &path, accept, &why) >
            0 &&
        (used > size - 1 || strlen(accept) != WS_ACCEPT_SIZE - 1))
        abort();
    buf_free(&path);

    char *url = malloc(size);
    memcpy(url, text, size - 1);
    url[size - 1] = '\0';
    ws_url u;
    if (ws_url_parse(url, &u) == 0) {
        if (!u.host[0] || u.target[0] != '/' || u.port < 1 || u.port > 65535)
            abort();
        ws_url_free(&u);
    }
    free(url);
    return 0;
}
