/* tool_server: what posetrack-replay and posetrack-view share: a
 * libwebsockets server on one port of one address, run until SIGINT or
 * SIGTERM, and a tiny option reader. */
#ifndef POSETRACKD_TOOL_SERVER_H
#define POSETRACKD_TOOL_SERVER_H

#include <libwebsockets.h>

/* Creates the context serving protocol on host:port. Returns NULL with a
 * message on stderr. */
struct lws_context *tool_server_start(const char *prog, const char *host,
                                      int port,
                                      const struct lws_protocols *protocol);
/* Services until a signal or tool_server_stop(); then destroys ctx. */
void tool_server_run(struct lws_context *ctx);
void tool_server_stop(void);
/* Milliseconds since the epoch. */
double tool_now_ms(void);

/* "--name value" or "--name=value": returns the value and advances *i,
 * or NULL if argv[*i] is not that option. */
const char *tool_opt(int argc, char **argv, int *i, const char *name);

#endif
