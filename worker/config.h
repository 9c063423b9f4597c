/* config: the worker's settings from defaults, environment, a config file
 * and the command line, in that order of precedence (last wins). The one
 * process-wide configuration; read-only once the worker starts. */
#ifndef POSETRACKD_CONFIG_H
#define POSETRACKD_CONFIG_H

#include <stddef.h>

#include "buf.h"
#include "log.h"

/* Celery's default for --concurrency is the CPU count because each slot is
 * a process; here a slot is a struct, so the default is generous. */
#define CONFIG_DEFAULT_CONCURRENCY 512
/* kombu's Redis transport default. */
#define CONFIG_DEFAULT_VISIBILITY_TIMEOUT 3600.0
/* Celery's result_expires default: one day. */
#define CONFIG_DEFAULT_RESULT_EXPIRES 86400.0
/* Large enough for any task message the Django app sends (a route's holds
 * are a few KiB); small enough that a hostile message cannot exhaust
 * memory. */
#define CONFIG_DEFAULT_MAX_MESSAGE_SIZE (16u << 20)
/* How long warm shutdown waits for running tasks before cancelling them. */
#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 10.0
/* Silence (seconds) before the tracker pings a WebSocket peer. */
#define CONFIG_DEFAULT_WS_PING_INTERVAL 20.0

typedef struct config {
    char *broker_url;
    char *result_backend;
    char **queues;
    size_t nqueues;
    char *hostname;
    unsigned concurrency;
    unsigned prefetch_multiplier;
    int acks_late;
    double visibility_timeout;
    double time_limit;
    double soft_time_limit;
    int track_started;
    double result_expires;
    int result_extended;
    int task_events;
    log_level loglevel;
    char *logfile;
    char *pidfile;
    char *statedb;
    char *wall_store; /* tracker walls and routes (files) */
    char *ws_ca_file; /* extra CAs for wss:// */
    double ws_ping_interval;
    size_t max_message_size;
    double shutdown_timeout;
} config;

typedef enum config_result {
    CONFIG_OK = 0,
    CONFIG_EXIT = 1,   /* --help or --version was printed */
    CONFIG_ERROR = -1, /* err holds one line for the user */
} config_result;

config_result config_load(config *c, int argc, char **argv, buf *err);
void config_free(config *c);

#endif
