/* celery_msg: decoding Celery task messages (protocol v2 and v1) from the
 * kombu envelope the Redis transport stores:
 *
 *   {"body": "<base64>", "content-encoding": "utf-8",
 *    "content-type": "application/json", "headers": {...},
 *    "properties": {"delivery_tag": ..., "delivery_info": {...}, ...}}
 *
 * Only JSON bodies are accepted; any other content type is refused before
 * a byte of it is interpreted. */
#ifndef POSETRACKD_CELERY_MSG_H
#define POSETRACKD_CELERY_MSG_H

#include <stddef.h>

#include "buf.h"
#include "json_span.h"

typedef enum celery_msg_status {
    CELERY_MSG_OK = 0,
    /* Not a kombu envelope at all (invalid JSON, not an object). */
    CELERY_MSG_BAD_ENVELOPE,
    /* A content type other than JSON: kombu.exceptions.ContentDisallowed. */
    CELERY_MSG_DISALLOWED,
    /* The body cannot be decoded (base64, UTF-8, JSON):
     * kombu.exceptions.DecodeError. */
    CELERY_MSG_DECODE_ERROR,
    /* Decoded, but not a task message (shape, types, missing fields):
     * celery.exceptions.InvalidTaskError. */
    CELERY_MSG_INVALID,
} celery_msg_status;

/* A decoded message. Owns every pointer in it; release with
 * celery_msg_free(). On a failed decode the fields that could be read
 * (id, task, delivery tag) are still set so the caller can answer. */
typedef struct celery_msg {
    int protocol; /* 2 or 1 */
    char *id;
    char *task;
    char *root_id;
    char *parent_id;
    char *group;
    char *origin;
    char *argsrepr;
    char *kwargsrepr;
    long retries;
    int has_eta;
    double eta; /* seconds since the epoch */
    int has_expires;
    double expires;
    double time_limit;      /* 0 = none */
    double soft_time_limit; /* 0 = none */
    int ignore_result;
    int priority;
    char *delivery_tag;
    char *exchange;
    char *routing_key;
    int redelivered; /* delivery_info.redelivered: restored by a worker */
    char *reply_to;
    char *correlation_id;
    char *body; /* the decoded body bytes */
    size_t body_len;
    json_span args;   /* into body: a JSON array */
    json_span kwargs; /* into body: a JSON object */
} celery_msg;

/* Longest task id or name accepted. Celery ids are 36-byte UUIDs; the
 * bound keeps hostile ids out of Redis keys and logs. */
#define CELERY_MSG_MAX_NAME 256

celery_msg_status celery_msg_decode(const char *raw, size_t len, celery_msg *m,
                                    buf *err);
void celery_msg_free(celery_msg *m);
/* The Python exception class a decode failure is reported as. */
void celery_msg_status_exc(celery_msg_status st, const char **exc_type,
                           const char **exc_module);

#endif
