/* log: Celery-shaped log lines,
 *   [2026-12-03 10:00:00,123: INFO/MainProcess] Task x[id] received
 * to stderr or a log file, filtered by level. */
#ifndef POSETRACKD_LOG_H
#define POSETRACKD_LOG_H

#include <stdarg.h>

typedef enum log_level {
    LOG_LEVEL_DEBUG = 10,
    LOG_LEVEL_INFO = 20,
    LOG_LEVEL_WARNING = 30,
    LOG_LEVEL_ERROR = 40,
    LOG_LEVEL_CRITICAL = 50,
} log_level;

/* Parses a Celery level name (debug, info, warning/warn, error, critical,
 * fatal; any case). Returns 0 or -1. */
int log_level_parse(const char *name, log_level *out);
/* Opens path for appending (NULL: stderr). Returns 0, or -1 with errno. */
int log_open(const char *path);
void log_set_level(log_level level);
int log_enabled(log_level level);
void log_close(void);
void log_write(log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes a line whatever the level filter says (a task's own debug log). */
void log_vemit(log_level level, const char *fmt, va_list ap);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_critical(...) log_write(LOG_LEVEL_CRITICAL, __VA_ARGS__)

#endif
