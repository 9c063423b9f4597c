/* posetrack-replay: a WebSocket server that plays a JSON-lines pose
 * recording to every client that connects, each from the start, at the
 * recording's own pace: line i goes out (t_i - t_0) / speed after the
 * first, t being the line's "timestamp" (ms) or the line number over
 * --fps when it has none. By default each frame's timestamp is rewritten
 * to the moment it is sent, so a recording made last year plays as now.
 *
 *   posetrack-replay [--host 127.0.0.1] [--port 8001] [--speed 1]
 *                    [--loop] [--keep-timestamps] [--fps 30]
 *                    [--end idle|close|exit] FILE */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_server.h"

/* A recording line longer than this is not a pose frame. */
#define REPLAY_MAX_LINE (1u << 20)

typedef struct frame {
    char *text;
    size_t len;
    double t_ms; /* the recording's time for it */
    long ts_off; /* where the timestamp's digits start, or -1 */
    size_t ts_len;
} frame;

typedef struct replay {
    frame *frames;
    size_t n;
    double speed;
    int loop, keep_timestamps;
    enum { END_IDLE, END_CLOSE, END_EXIT } end;
    unsigned long dropped; /* frames a slow client missed */
} replay;

static replay R;

/* A client whose socket holds this much unsent is not keeping up: its
 * frames are dropped, as a camera would, rather than queued. */
#define REPLAY_MAX_BACKLOG (256u * 1024)

/* Per connection; freed in its timer's close callback. */
typedef struct session {
    uv_timer_t timer;
    tool_conn *conn;
    size_t next;
    double start_ms; /* wall time of frame 0 of this pass */
    int done;
} session;

static void find_timestamp(frame *f)
{
    f->ts_off = -1;
    const char *k = strstr(f->text, "\"timestamp\"");
    if (!k)
        return;
    const char *p = k + 11;
    while (*p == ' ' || *p == ':')
        p++;
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v))
        return;
    f->t_ms = v;
    f->ts_off = p - f->text;
    f->ts_len = (size_t)(end - p);
}

static int load(const char *path, double fps)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!fp) {
        fprintf(stderr, "posetrack-replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, have = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || (size_t)len > REPLAY_MAX_LINE)
            continue;
        if (R.n == have) {
            have = have ? 2 * have : 1024;
            R.frames = realloc(R.frames, have * sizeof(frame));
        }
        frame *f = &R.frames[R.n];
        f->text = strdup(line);
        f->len = (size_t)len;
        f->t_ms = R.n ? R.frames[R.n - 1].t_ms + 1000.0 / fps : 0;
        find_timestamp(f);
        R.n++;
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    if (R.n == 0) {
        fprintf(stderr, "posetrack-replay: %s: no frames\n", path);
        return -1;
    }
    return 0;
}

static double due_ms(const session *s, size_t i)
{
    return s->start_ms + (R.frames[i].t_ms - R.frames[0].t_ms) / R.speed;
}

static void due(uv_timer_t *t);

static void schedule(session *s)
{
    double wait = due_ms(s, s->next) - tool_now_ms();
    uv_timer_start(&s->timer, due, wait > 0 ? (uint64_t)ceil(wait) : 0, 0);
}

/* The frame, its timestamp rewritten to now unless kept. */
static int send_frame(session *s)
{
    const frame *f = &R.frames[s->next];
    if (R.keep_timestamps || f->ts_off < 0)
        return tool_conn_send(s->conn, f->text, f->len);
    static char out[REPLAY_MAX_LINE + 32];
    char ts[32];
    int n = snprintf(ts, sizeof(ts), "%.0f", floor(tool_now_ms()));
    memcpy(out, f->text, (size_t)f->ts_off);
    memcpy(out + f->ts_off, ts, (size_t)n);
    size_t rest = f->len - (size_t)f->ts_off - f->ts_len;
    memcpy(out + f->ts_off + n, f->text + f->ts_off + f->ts_len, rest);
    return tool_conn_send(s->conn, out, (size_t)f->ts_off + (size_t)n + rest);
}

/* The recording ran out: loop, or end as --end says. */
static void finished(session *s)
{
    if (R.loop) {
        s->next = 0;
        s->start_ms = tool_now_ms();
        schedule(s);
        return;
    }
    s->done = 1;
    fprintf(stderr, "posetrack-replay: sent %zu frames\n", R.n);
    if (R.end == END_EXIT)
        tool_server_stop();
    else if (R.end == END_CLOSE)
        tool_conn_close(s->conn);
}

static void due(uv_timer_t *t)
{
    session *s = t->data;
    if (s->done)
        return;
    if (tool_conn_backlog(s->conn) > REPLAY_MAX_BACKLOG)
        R.dropped++;
    else if (send_frame(s) < 0)
        return;
    if (++s->next == R.n)
        finished(s);
    else
        schedule(s);
}

static void session_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_open(tool_conn *c, const char *path)
{
    (void)path;
    session *s = calloc(1, sizeof(*s));
    uv_timer_init(tool_server_loop(), &s->timer);
    s->timer.data = s;
    s->conn = c;
    s->start_ms = tool_now_ms();
    tool_conn_set_data(c, s);
    fprintf(stderr, "posetrack-replay: client connected\n");
    schedule(s);
}

static void on_close(tool_conn *c)
{
    session *s = tool_conn_data(c);
    uv_close((uv_handle_t *)&s->timer, session_closed);
    fprintf(stderr, "posetrack-replay: client gone\n");
}

static void usage(void)
{
    fprintf(stderr,
            "usage: posetrack-replay [--host ADDR] [--port N] [--speed X] "
            "[--loop]\n"
            "                        [--keep-timestamps] [--fps N] "
            "[--end idle|close|exit] FILE\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *file = NULL, *v;
    int port = 8001;
    double fps = 30;
    R.speed = 1;
    for (int i = 1; i < argc; i++) {
        if ((v = tool_opt(argc, argv, &i, "--host")))
            host = v;
        else if ((v = tool_opt(argc, argv, &i, "--port")))
            port = atoi(v);
        else if ((v = tool_opt(argc, argv, &i, "--speed")))
            R.speed = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--fps")))
            fps = atof(v);
        else if ((v = tool_opt(argc, argv, &i, "--end")))
            R.end = !strcmp(v, "close")  ? END_CLOSE
                    : !strcmp(v, "exit") ? END_EXIT
                    : !strcmp(v, "idle") ? END_IDLE
                                         : (usage(), END_IDLE);
        else if (!strcmp(argv[i], "--loop"))
            R.loop = 1;
        else if (!strcmp(argv[i], "--keep-timestamps"))
            R.keep_timestamps = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            usage();
        else
            file = argv[i];
    }
    if (!file || !(R.speed > 0) || !(fps > 0) || port <= 0 || port > 65535)
        usage();
    if (load(file, fps) < 0)
        return 1;
    static const tool_server_cbs cbs = {.on_open = on_open,
                                        .on_close = on_close};
    if (tool_server_start("posetrack-replay", host, port, 65536, &cbs) < 0)
        return 1;
    fprintf(stderr, "posetrack-replay: %zu frames on ws://%s:%d/\n", R.n, host,
            port);
    tool_server_run();
    if (R.dropped)
        fprintf(stderr,
                "posetrack-replay: %lu frames dropped (a client fell "
                "behind)\n",
                R.dropped);
    for (size_t i = 0; i < R.n; i++)
        free(R.frames[i].text);
    free(R.frames);
    return 0;
}
