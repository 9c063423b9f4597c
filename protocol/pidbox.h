/* pidbox: Celery remote control messages (kombu/pidbox.py) as the Redis
 * transport carries them: a request broadcast on the celery.pidbox fanout
 *
 *   {"method": "ping", "arguments": {}, "destination": null,
 *    "pattern": null, "matcher": null, "ticket": "...",
 *    "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "..."}}
 *
 * inside a kombu envelope, and a reply {hostname: value} sent to the
 * caller's reply queue with the ticket in its headers. */
#ifndef POSETRACKD_PIDBOX_H
#define POSETRACKD_PIDBOX_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

/* Control messages are small; a larger one is refused unread. */
#define PIDBOX_MAX_MESSAGE (1u << 20)

/* A decoded request; release with pidbox_request_free(). */
typedef struct pidbox_request {
    char *method;
    json_t *arguments;   /* an object, never NULL after a decode */
    json_t *destination; /* an array of names, or NULL for everyone */
    char *pattern;
    char *matcher;
    char *ticket;         /* NULL: no reply wanted */
    char *reply_exchange; /* with ticket */
    char *reply_routing_key;
} pidbox_request;

/* Returns 0, or -1 with a reason in err. */
int pidbox_request_decode(const char *raw, size_t len, pidbox_request *out,
                          buf *err);
void pidbox_request_free(pidbox_request *r);
/* 1 if the request addresses hostname (destination list, or pattern with
 * the glob or pcre matcher, or nobody in particular). */
int pidbox_request_is_for(const pidbox_request *r, const char *hostname);
/* Appends the kombu envelope of a reply {hostname: reply}. */
void pidbox_reply_encode(buf *out, const char *hostname, const json_t *reply,
                         const pidbox_request *req, const char *delivery_tag);

#endif
