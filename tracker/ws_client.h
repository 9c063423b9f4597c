/* ws_client: a WebSocket client connection that stays up: it connects
 * (ws:// or wss://), reconnects after a loss with exponential backoff
 * (DESIGN §6.9: from the reconnect delay, doubling to WS_CLIENT_MAX_DELAY,
 * reset by a successful connection), keeps the link checked with pings,
 * and queues what the owner sends while it is down. A link silent for the
 * hub's ping interval is pinged, and dropped when twice that passes without
 * an answer.
 *
 * Two kinds of outgoing message: the latest state (each one goes out
 * while the socket takes bytes; while it does not, a newer one replaces
 * one not yet sent, so a slow reader gets the newest frame, never a
 * backlog) and replies, sent in order before it, at most
 * WS_CLIENT_MAX_REPLIES waiting. What is sent while a read is handled
 * goes out in one write at its end.
 *
 * All clients of one loop share a ws_hub: the loop, the TLS context and
 * the buffers every read and write passes through. */
#ifndef POSETRACKD_WS_CLIENT_H
#define POSETRACKD_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

/* The backoff stops doubling here (seconds). */
#define WS_CLIENT_MAX_DELAY 60.0
/* Replies waiting to be sent; more are dropped (and counted). */
#define WS_CLIENT_MAX_REPLIES 32
/* Seconds a closing client waits for its last frame to go out. */
#define WS_CLIENT_CLOSE_SECS 2

typedef struct ws_hub ws_hub;
typedef struct ws_client ws_client;

typedef struct ws_client_cbs {
    /* Connected (each time, after a reconnect too). */
    void (*on_open)(ws_client *c, void *data);
    /* A whole text or binary message; msg is valid during the call. */
    void (*on_message)(ws_client *c, const char *msg, size_t len, void *data);
    /* A message over the client's size limit arrived and was dropped. */
    void (*on_oversize)(ws_client *c, void *data);
    /* The latest state given at born_ns went out. */
    void (*on_sent)(ws_client *c, uint64_t born_ns, void *data);
    /* The connection failed or was lost; a reconnect is scheduled in
     * retry_in seconds. */
    void (*on_down)(ws_client *c, const char *why, double retry_in, void *data);
} ws_client_cbs;

/* ca_file: CA certificates for wss:// besides the system's (or NULL);
 * ping_interval in seconds (at least 0.05). Owned
 * by its creator; freed with ws_hub_free() once no client is left. */
ws_hub *ws_hub_new(uv_loop_t *loop, const char *ca_file, double ping_interval);
void ws_hub_free(ws_hub *h);

/* Starts connecting to url (already checked by ws_url_parse()).
 * max_message bounds incoming messages. The client is the caller's until
 * ws_client_close(). */
ws_client *ws_client_open(ws_hub *h, const char *url, double reconnect_delay,
                          size_t max_message, const ws_client_cbs *cbs,
                          void *data);
/* The latest state: replaces a pending one. Kept while disconnected and
 * sent on reconnect. born_ns (uv_hrtime) is when its cause arrived; the
 * on_sent callback gets it back when the message is written. */
void ws_client_send_latest(ws_client *c, const char *msg, size_t len,
                           uint64_t born_ns);
/* A reply, queued in order. Returns 0, or -1 if the queue is full. */
int ws_client_send_reply(ws_client *c, const char *msg, size_t len);
/* Sends what is pending (for at most WS_CLIENT_CLOSE_SECS), closes and
 * frees the client. No callback runs after this. */
void ws_client_close(ws_client *c);

int ws_client_is_open(const ws_client *c);
const char *ws_client_url(const ws_client *c);
/* Counters for status replies and summaries. */
unsigned long ws_client_connects(const ws_client *c);
unsigned long ws_client_dropped(const ws_client *c);
unsigned long ws_client_superseded(const ws_client *c);

#endif
