/* log: one formatted write(2) per line, so lines from several threads never
 * interleave, and no stdio buffering hides lines when the daemon dies. The
 * level and file are process configuration, set once at start-up. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "isotime.h"

static int log_fd = 2;
static log_level min_level = LOG_LEVEL_WARNING;

int log_level_parse(const char *name, log_level *out)
{
    static const struct {
        const char *name;
        log_level level;
    } names[] = {
        {"debug", LOG_LEVEL_DEBUG},     {"info", LOG_LEVEL_INFO},
        {"warning", LOG_LEVEL_WARNING}, {"warn", LOG_LEVEL_WARNING},
        {"error", LOG_LEVEL_ERROR},     {"critical", LOG_LEVEL_CRITICAL},
        {"fatal", LOG_LEVEL_CRITICAL}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

int log_open(const char *path)
{
    if (!path || !*path || strcmp(path, "-") == 0) {
        log_fd = 2;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    log_fd = fd;
    return 0;
}

void log_close(void)
{
    if (log_fd > 2)
        close(log_fd);
    log_fd = 2;
}

void log_set_level(log_level level)
{
    min_level = level;
}

int log_enabled(log_level level)
{
    return level >= min_level;
}

static const char *level_name(log_level level)
{
    switch (level) {
    case LOG_LEVEL_DEBUG:
        return "DEBUG";
    case LOG_LEVEL_INFO:
        return "INFO";
    case LOG_LEVEL_WARNING:
        return "WARNING";
    case LOG_LEVEL_ERROR:
        return "ERROR";
    default:
        return "CRITICAL";
    }
}

void log_write(log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vemit(level, fmt, ap);
    va_end(ap);
}

void log_vemit(log_level level, const char *fmt, va_list ap)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    buf line;
    buf_init(&line);
    buf_append_char(&line, '[');
    isotime_format_log(&line, (double)tv.tv_sec + tv.tv_usec / 1e6);
    buf_printf(&line, ": %s/MainProcess] ", level_name(level));
    buf_vprintf(&line, fmt, ap);
    buf_append_char(&line, '\n');
    size_t off = 0;
    while (off < line.len) {
        ssize_t n = write(log_fd, line.data + off, line.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    buf_free(&line);
}
