/* events: Celery's event stream (celery/events/dispatcher.py): worker-online,
 * worker-heartbeat every 2 s and worker-offline always (as Celery's worker
 * with its heart), task-* events when task events are enabled (-E or the
 * enable_events command). Published through the broker's fanout to the
 * celeryev exchange with routing keys like "task.succeeded". */
#ifndef POSETRACKD_EVENTS_H
#define POSETRACKD_EVENTS_H

#include <jansson.h>
#include <uv.h>

#include "broker.h"

/* Celery's default heartbeat interval (worker_heartbeat... freq). */
#define EVENTS_HEARTBEAT_SECONDS 2.0

typedef struct events events;

/* Counters the heartbeat reports, read when it is sent. */
typedef void (*events_stats_cb)(void *data, unsigned long *active,
                                unsigned long *processed);

/* hostname is copied. Freed by events_close(). */
/* clock is the worker's Lamport clock, forwarded on each event. */
events *events_new(uv_loop_t *loop, broker *b, const char *hostname,
                   int task_events, unsigned long *clock, events_stats_cb stats,
                   void *data);
void events_start(events *e);
int events_task_enabled(const events *e);
/* Returns 1 if the setting changed. */
int events_set_task_enabled(events *e, int on);
/* Sends type with fields (stolen); task-* only when task events are on. */
void events_send(events *e, const char *type, json_t *fields);
/* Sends a heartbeat now (the heartbeat control command). */
void events_heartbeat(events *e);
/* Sends worker-offline and releases e once its timer is closed. */
void events_close(events *e);

#endif
