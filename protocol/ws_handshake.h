/* ws_handshake: the opening handshake of RFC 6455 §4 for both ends: the
 * client's request and the check of the server's answer, the server's
 * reading of a request and its 101 answer. No I/O. */
#ifndef POSETRACKD_WS_HANDSHAKE_H
#define POSETRACKD_WS_HANDSHAKE_H

#include <stddef.h>

#include "buf.h"
#include "ws_url.h"

/* Sec-WebSocket-Key and -Accept values, with their NUL. */
#define WS_KEY_SIZE 25
#define WS_ACCEPT_SIZE 29
/* A request or response head longer than this is refused. */
#define WS_HANDSHAKE_MAX 8192

/* A fresh random key. */
void ws_handshake_key(char key[WS_KEY_SIZE]);
/* The Sec-WebSocket-Accept value that answers key. */
void ws_handshake_accept(const char *key, size_t len,
                         char accept[WS_ACCEPT_SIZE]);

/* Appends the client's upgrade request for u with key. */
void ws_handshake_request(buf *out, const ws_url *u, const char *key);
/* Reads the server's answer from data. Returns 1 when it is complete and
 * accepts key (*used: the bytes of the head; frames may follow), 0 when
 * more is needed, -1 when it refuses or is malformed (*why). */
int ws_handshake_response(const char *data, size_t len, const char *key,
                          size_t *used, const char **why);

/* Reads a client's upgrade request. Returns 1 when complete and valid
 * (*used as above, the request target appended to path, the answer's
 * accept value filled), 0 when more is needed, -1 on a bad request. */
int ws_handshake_read_request(const char *data, size_t len, size_t *used,
                              buf *path, char accept[WS_ACCEPT_SIZE],
                              const char **why);
/* Appends the server's 101 answer. */
void ws_handshake_response_append(buf *out, const char *accept);

#endif
