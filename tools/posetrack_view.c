/* posetrack-view: the wall's screen on a terminal. A WebSocket server the
 * tracker's output connects to; it prints each change of the session
 * (a hold touched, the session completed or abandoned, a new attempt) and
 * every control reply, and can record every message as JSON lines.
 *
 *   posetrack-view [--host 127.0.0.1] [--port 8002] [--record FILE]
 *                  [--exit-on completed|abandoned|ended] [--quiet] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool_server.h"

/* Session frames carry a pose and every hold: well under this. */
#define VIEW_MAX_MESSAGE (4u << 20)

typedef struct view {
    FILE *record;
    int quiet;
    const char *exit_on;
    unsigned long frames;
    char status[16];
    char *touched; /* '1' per hold, as last seen */
    size_t nholds;
} view;

static view V;

static void stamp(void)
{
    double ms = tool_now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    printf("[%02d:%02d:%02d.%03d] ", tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)((long long)ms % 1000));
}

static size_t count_touched(void)
{
    size_t n = 0;
    for (size_t i = 0; i < V.nholds; i++)
        n += V.touched[i] == '1';
    return n;
}

static void show_holds(const json_t *holds)
{
    size_t n = json_array_size(holds);
    if (n != V.nholds) {
        free(V.touched);
        V.touched = calloc(n + 1, 1);
        V.nholds = n;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *h = json_array_get(holds, i);
        const char *st = json_string_value(json_object_get(h, "status"));
        char now = st && strcmp(st, "touched") == 0 ? '1' : '0';
        if (now == V.touched[i])
            continue;
        V.touched[i] = now;
        if (now != '1')
            continue;
        stamp();
        printf("%-12s %-7s touched at %s   (%zu/%zu)\n",
               json_string_value(json_object_get(h, "id")),
               json_string_value(json_object_get(h, "type")),
               json_string_value(json_object_get(h, "time")), count_touched(),
               V.nholds);
    }
}

static void show_session(const json_t *s)
{
    const char *status = json_string_value(json_object_get(s, "status"));
    if (!status)
        return;
    int was_touched = count_touched() > 0;
    show_holds(json_object_get(s, "holds"));
    if (strcmp(status, V.status) != 0 || (was_touched && !count_touched())) {
        stamp();
        const char *end = json_string_value(json_object_get(s, "endTime"));
        printf("session %s (started %s%s%s)\n", status,
               json_string_value(json_object_get(s, "startTime")),
               end ? ", ended " : "", end ? end : "");
        snprintf(V.status, sizeof(V.status), "%s", status);
        if (V.exit_on && (strcmp(V.exit_on, status) == 0 ||
                          (strcmp(V.exit_on, "ended") == 0 &&
                           strcmp(status, "started") != 0)))
            tool_server_stop();
    }
}

static void handle(const char *msg, size_t len)
{
    if (V.record) {
        fwrite(msg, 1, len, V.record);
        fputc('\n', V.record);
        fflush(V.record);
    }
    /* Quiet, a session frame is only counted: no need to parse it (a
     * benchmark's screen takes thousands a second). */
    if (V.quiet) {
        V.frames += memmem(msg, len, "\"session\"", 9) != NULL;
        return;
    }
    json_t *j = json_loadb(msg, len, 0, NULL);
    const json_t *session = json_object_get(j, "session");
    if (session) {
        V.frames++;
        if (!V.quiet)
            show_session(session);
    } else if (!V.quiet) {
        stamp();
        printf("reply: %.*s\n", (int)(len > 300 ? 300 : len), msg);
    }
    fflush(stdout);
    json_decref(j);
}

static void on_open(tool_conn *c, const char *path)
{
    (void)c, (void)path;
    if (!V.quiet) {
        stamp();
        printf("tracker connected\n");
        fflush(stdout);
    }
}

static void on_message(tool_conn *c, const char *msg, size_t len)
{
    (void)c;
    handle(msg, len);
}

static void on_close(tool_conn *c)
{
    (void)c;
    if (!V.quiet) {
        stamp();
        printf("tracker disconnected\n");
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *v;
    int port = 8002;
    for (int i = 1; i < argc; i++) {
        if ((v = tool_opt(argc, argv, &i, "--host")))
            host = v;
        else if ((v = tool_opt(argc, argv, &i, "--port")))
            port = atoi(v);
        else if ((v = tool_opt(argc, argv, &i, "--record"))) {
            if (!(V.record = fopen(v, "a"))) {
                perror(v);
                return 1;
            }
        } else if ((v = tool_opt(argc, argv, &i, "--exit-on")))
            V.exit_on = v;
        else if (!strcmp(argv[i], "--quiet"))
            V.quiet = 1;
        else {
            fprintf(stderr, "usage: posetrack-view [--host ADDR] [--port N] "
                            "[--record FILE]\n"
                            "                      [--exit-on "
                            "completed|abandoned|ended] [--quiet]\n");
            return 64;
        }
    }
    static const tool_server_cbs cbs = {on_open, on_message, on_close};
    if (tool_server_start("posetrack-view", host, port, VIEW_MAX_MESSAGE,
                          &cbs) < 0)
        return 1;
    fprintf(stderr, "posetrack-view: listening on ws://%s:%d/\n", host, port);
    tool_server_run();
    printf("%lu session frames received\n", V.frames);
    if (V.record)
        fclose(V.record);
    free(V.touched);
    return 0;
}
