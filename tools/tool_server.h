/* tool_server: what posetrack-replay and posetrack-view share: a
 * WebSocket server (ws_codec, ws_handshake) on one address and port, on a
 * libuv loop, run until SIGINT or SIGTERM, and a tiny option reader. */
#ifndef POSETRACKD_TOOL_SERVER_H
#define POSETRACKD_TOOL_SERVER_H

#include <stddef.h>
#include <uv.h>

typedef struct tool_conn tool_conn;

typedef struct tool_server_cbs {
    /* The handshake is done; path is the request target. */
    void (*on_open)(tool_conn *c, const char *path);
    /* A whole text or binary message, valid during the call. */
    void (*on_message)(tool_conn *c, const char *msg, size_t len);
    /* The connection is gone; c is freed after this returns. */
    void (*on_close)(tool_conn *c);
} tool_server_cbs;

/* Listens on host:port; messages over max_message close the connection.
 * Returns 0, or -1 with a message on stderr. */
int tool_server_start(const char *prog, const char *host, int port,
                      size_t max_message, const tool_server_cbs *cbs);
uv_loop_t *tool_server_loop(void);
/* Serves until a signal or tool_server_stop(), then closes everything. */
void tool_server_run(void);
void tool_server_stop(void);

/* Sends a text message. Returns 0, or -1 if the connection has failed. */
int tool_conn_send(tool_conn *c, const char *msg, size_t len);
/* Bytes sent and not yet taken by the kernel: a slow reader's backlog. */
size_t tool_conn_backlog(const tool_conn *c);
/* Sends a close frame and closes (on_close follows). */
void tool_conn_close(tool_conn *c);
void tool_conn_set_data(tool_conn *c, void *data);
void *tool_conn_data(const tool_conn *c);

/* Milliseconds since the epoch. */
double tool_now_ms(void);

/* "--name value" or "--name=value": returns the value and advances *i,
 * or NULL if argv[*i] is not that option. */
const char *tool_opt(int argc, char **argv, int *i, const char *name);

#endif
