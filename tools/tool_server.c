/* tool_server: the tools run libwebsockets' own poll loop (they have no
 * other I/O); a signal only sets a flag, which lws_cancel_service() makes
 * the loop notice at once. */
#include "tool_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stopping;
static struct lws_context *running;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
    if (running)
        lws_cancel_service(running);
}

struct lws_context *tool_server_start(const char *prog, const char *host,
                                      int port,
                                      const struct lws_protocols *protocol)
{
    static struct lws_protocols protos[2];
    protos[0] = *protocol;
    memset(&protos[1], 0, sizeof(protos[1]));
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = host;
    info.protocols = protos;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "%s: cannot listen on %s:%d\n", prog, host, port);
        return NULL;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    running = ctx;
    return ctx;
}

void tool_server_run(struct lws_context *ctx)
{
    while (!stopping && lws_service(ctx, 0) >= 0)
        ;
    running = NULL;
    lws_context_destroy(ctx);
}

void tool_server_stop(void)
{
    stopping = 1;
    if (running)
        lws_cancel_service(running);
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
