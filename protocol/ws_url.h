/* ws_url: a ws:// or wss:// URL taken apart for connecting: the host (an
 * [IPv6] host without its brackets), the port (given, or 80 / 443) and
 * the request target (path and query, always starting with '/'). */
#ifndef POSETRACKD_WS_URL_H
#define POSETRACKD_WS_URL_H

typedef struct ws_url {
    int tls;    /* wss:// */
    char *host; /* owned */
    int port;
    int port_given;
    char *target; /* owned: "/path?query" */
} ws_url;

/* Returns 0 and fills u (free with ws_url_free()), or -1 if url is not a
 * usable WebSocket URL: another scheme, no host or one with characters no
 * host name has, a port outside 1..65535, an unclosed [IPv6] bracket,
 * control characters or spaces, userinfo. */
int ws_url_parse(const char *url, ws_url *u);
void ws_url_free(ws_url *u);

#endif
