/* broker: what the worker needs from a message broker, whichever it is.
 *
 * The worker grants credit (how many more messages it can hold); the broker
 * delivers at most that many through on_message and keeps each delivered
 * message unacknowledged until the worker acks or requeues it. Drivers:
 * broker_redis (kombu's Redis transport). */
#ifndef POSETRACKD_BROKER_H
#define POSETRACKD_BROKER_H

#include <stddef.h>

typedef struct broker broker;

typedef enum broker_delivery_status {
    /* A message recorded as unacknowledged under tag. */
    BROKER_DELIVERY_OK,
    /* Unreadable as an envelope (no delivery tag): already removed from
     * the broker, nothing to ack. */
    BROKER_DELIVERY_MALFORMED,
    /* Over the size limit: already removed; raw holds only its tail,
     * where kombu's envelope keeps the headers. */
    BROKER_DELIVERY_OVERSIZED,
} broker_delivery_status;

/* A delivered message, valid during the on_message call only; the worker
 * copies what it keeps. */
typedef struct broker_delivery {
    broker_delivery_status status;
    const char *tag;
    const char *queue;
    const char *raw;
    size_t len;
    size_t full_len; /* the message's real size (OVERSIZED) */
} broker_delivery;

typedef void (*broker_message_cb)(broker *b, const broker_delivery *d,
                                  void *data);
typedef void (*broker_closed_cb)(broker *b, void *data);

typedef struct broker_ops {
    void (*start)(broker *b);
    /* The worker can take `credit` more messages than it holds now. */
    void (*set_credit)(broker *b, size_t credit);
    void (*ack)(broker *b, const char *tag);
    /* Puts a held message back on its queue; raw is the message as it was
     * delivered from queue. */
    void (*requeue)(broker *b, const char *tag, const char *queue,
                    const char *raw, size_t len);
    /* Tells the broker the worker still holds these messages (visibility
     * timeout). */
    void (*touch)(broker *b, const char *const *tags, size_t n);
    /* Sends payload (a complete message) to an exchange with a routing
     * key, e.g. a remote control reply. Returns 0, or -1 if it cannot be
     * sent now. */
    int (*publish)(broker *b, const char *exchange, const char *routing_key,
                   const char *payload, size_t len);
    /* Sends payload to every consumer of a fanout exchange (events). */
    int (*publish_fanout)(broker *b, const char *exchange,
                          const char *routing_key, const char *payload,
                          size_t len);
    /* Starts or stops consuming a queue (add_consumer, cancel_consumer).
     * Return 0, or -1 if the queue is already (or not) consumed. */
    int (*add_queue)(broker *b, const char *queue);
    int (*cancel_queue)(broker *b, const char *queue);
    /* The queues consumed now. */
    const char *const *(*queues)(broker *b, size_t *n);
    /* Stops delivering; pending acks and requeues are still written. */
    void (*stop_consuming)(broker *b);
    /* Flushes what is pending, closes, then calls cb and frees itself. */
    void (*close)(broker *b, broker_closed_cb cb, void *data);
} broker_ops;

struct broker {
    const broker_ops *ops;
};

#endif
