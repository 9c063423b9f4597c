/* kombu_envelope: encoding the message envelope kombu's virtual transports
 * (Redis) store and publish:
 *
 *   {"body": "<base64 of the JSON body>", "content-encoding": "utf-8",
 *    "content-type": "application/json", "headers": {...},
 *    "properties": {"delivery_mode": 1, "delivery_info": {"exchange": ...,
 *    "routing_key": ...}, "priority": 0, "body_encoding": "base64",
 *    "delivery_tag": "..."}}
 *
 * Decoding task messages is celery_msg's job (it must not build a tree);
 * this is for posetrackd's own messages and the control messages it reads. */
#ifndef POSETRACKD_KOMBU_ENVELOPE_H
#define POSETRACKD_KOMBU_ENVELOPE_H

#include <jansson.h>

#include "buf.h"

/* Transient delivery, as kombu uses for replies and events. */
#define KOMBU_DELIVERY_TRANSIENT 1

typedef struct kombu_envelope {
    const json_t *body;    /* encoded as JSON, then base64 */
    const json_t *headers; /* an object, or NULL for {} */
    const char *exchange;
    const char *routing_key;
    const char *delivery_tag;
    int delivery_mode;
} kombu_envelope;

void kombu_envelope_encode(buf *out, const kombu_envelope *e);
/* The other way, for the small JSON messages posetrackd reads besides tasks
 * (control requests and replies): parses the envelope, checks it is JSON,
 * undoes the body encoding and returns the body, which must be an object;
 * the caller owns it. NULL with err on any problem. */
json_t *kombu_envelope_decode(const char *raw, size_t len, buf *err);

#endif
