/* redis_url: parses the Redis URLs Celery accepts for brokers and result
 * backends: redis://[[user]:password@]host[:port][/db] and
 * redis+socket:///path/to/socket[?virtual_host=db] (also unix://). */
#ifndef POSETRACKD_REDIS_URL_H
#define POSETRACKD_REDIS_URL_H

#include "buf.h"

typedef struct redis_url {
    char *host; /* NULL for a Unix socket */
    int port;
    char *socket; /* NULL for TCP */
    char *username;
    char *password;
    int db;
} redis_url;

/* 1 if url names a Redis server (redis://, redis+socket://, unix://). */
int redis_url_is_redis(const char *url);
/* Returns 0, or -1 with a message naming the problem in err. The caller
 * frees a parsed URL with redis_url_free(). */
int redis_url_parse(const char *url, redis_url *out, buf *err);
void redis_url_free(redis_url *u);
/* A deep copy; the caller frees dst with redis_url_free(). */
void redis_url_copy(redis_url *dst, const redis_url *src);
/* Appends the URL with any password masked, for logs and the banner. */
void redis_url_format(buf *out, const redis_url *u);

#endif
