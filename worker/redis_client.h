/* redis_client: one hiredis asynchronous connection on the libuv loop that
 * reconnects by itself.
 *
 * On every (re)connection it authenticates and selects the database before
 * reporting itself ready, so users only ever see a usable connection.
 * Commands sent while it is not ready are refused (-1) and their callback
 * is not called; commands in flight when the connection drops get their
 * callback with reply == NULL. */
#ifndef POSETRACKD_REDIS_CLIENT_H
#define POSETRACKD_REDIS_CLIENT_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <uv.h>

#include "redis_url.h"

typedef struct redis_client redis_client;

/* reply is owned by hiredis and valid only during the call; NULL when the
 * connection was lost before the reply came. */
typedef void (*redis_client_reply_cb)(redis_client *rc, redisReply *reply,
                                      void *privdata);
/* Called with ready = 1 each time the connection becomes usable and with
 * ready = 0 when it is lost. */
typedef void (*redis_client_state_cb)(redis_client *rc, int ready, void *data);

/* The URL is copied. name appears in log lines ("broker", "backend"). The
 * caller frees the client with redis_client_close(). */
redis_client *redis_client_new(uv_loop_t *loop, const redis_url *url,
                               const char *name, redis_client_state_cb cb,
                               void *data);
void redis_client_start(redis_client *rc);
int redis_client_ready(const redis_client *rc);
int redis_client_command(redis_client *rc, redis_client_reply_cb cb,
                         void *privdata, int argc, const char **argv,
                         const size_t *argvlen);
/* PSUBSCRIBE pattern: cb runs for every reply on this subscription (the
 * confirmation and each ["pmessage", pattern, channel, data]) until the
 * connection is lost, when it gets NULL once. Call again after each
 * reconnection. The connection is then in subscriber mode. */
int redis_client_psubscribe(redis_client *rc, redis_client_reply_cb cb,
                            void *privdata, const char *pattern);
/* Closes the connection (pending callbacks get NULL replies) and frees the
 * client once libuv has released its handles. */
void redis_client_close(redis_client *rc);
void *redis_client_data(const redis_client *rc);

#endif
