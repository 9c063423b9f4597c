/* config: one table describes every option; the command line, the config
 * file (key = value, the long option names with - or _) and the
 * environment variables all go through it, so they cannot disagree. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis_url.h"
#include "version.h"

typedef enum opt_type {
    OPT_STR,
    OPT_UINT,
    OPT_SECONDS,
    OPT_FLAG,
    OPT_LIST,
    OPT_LEVEL,
    OPT_SIZE,
} opt_type;

typedef struct opt_def {
    const char *name;
    int shortopt;
    opt_type type;
    size_t offset;
    const char *env;
    const char *help;
} opt_def;

#define OFF(f) offsetof(config, f)

static const opt_def opts[] = {
    {"broker", 'b', OPT_STR, OFF(broker_url), "CELERY_BROKER_URL",
     "broker URL (default redis://localhost:6379/0)"},
    {"result-backend", 0, OPT_STR, OFF(result_backend), "CELERY_RESULT_BACKEND",
     "result backend URL or 'disabled' "
     "(default: the broker URL)"},
    {"queues", 'Q', OPT_LIST, OFF(queues), NULL,
     "comma-separated queues to consume (default celery)"},
    {"hostname", 'n', OPT_STR, OFF(hostname), NULL,
     "node name, %h expands to the host (default posetrackd@%h)"},
    {"concurrency", 'c', OPT_UINT, OFF(concurrency), NULL,
     "tasks running at once (default 512)"},
    {"prefetch-multiplier", 0, OPT_UINT, OFF(prefetch_multiplier), NULL,
     "messages reserved per slot (default 4)"},
    {"acks-late", 0, OPT_FLAG, OFF(acks_late), NULL,
     "acknowledge after the task ends, not when it starts"},
    {"visibility-timeout", 0, OPT_SECONDS, OFF(visibility_timeout), NULL,
     "seconds before an unacknowledged message is redelivered (3600)"},
    {"time-limit", 0, OPT_SECONDS, OFF(time_limit), NULL,
     "hard time limit in seconds for every task"},
    {"soft-time-limit", 0, OPT_SECONDS, OFF(soft_time_limit), NULL,
     "soft time limit in seconds for every task"},
    {"track-started", 0, OPT_FLAG, OFF(track_started), NULL,
     "store STARTED when a task starts"},
    {"result-expires", 0, OPT_SECONDS, OFF(result_expires), NULL,
     "seconds results are kept (86400; 0 keeps them forever)"},
    {"result-extended", 0, OPT_FLAG, OFF(result_extended), NULL,
     "store name, args, kwargs, worker, retries and queue with results"},
    {"task-events", 'E', OPT_FLAG, OFF(task_events), NULL,
     "send task-related events (celery events, flower)"},
    {"loglevel", 'l', OPT_LEVEL, OFF(loglevel), NULL,
     "debug, info, warning, error or critical (default warning)"},
    {"logfile", 'f', OPT_STR, OFF(logfile), NULL,
     "log to this file instead of stderr"},
    {"pidfile", 0, OPT_STR, OFF(pidfile), NULL, "write the pid to this file"},
    {"statedb", 0, OPT_STR, OFF(statedb), NULL,
     "keep revoked task ids in this file across restarts"},
    {"max-message-size", 0, OPT_SIZE, OFF(max_message_size), NULL,
     "largest message accepted, in bytes (16777216)"},
    {"shutdown-timeout", 0, OPT_SECONDS, OFF(shutdown_timeout), NULL,
     "seconds warm shutdown waits for running tasks (10)"},
    {"wall-store", 0, OPT_STR, OFF(wall_store), NULL,
     "directory of walls/<id>.json, routes/<id>.json and their SVGs"},
    {"ws-ca-file", 0, OPT_STR, OFF(ws_ca_file), NULL,
     "CA certificates (PEM) trusted for wss:// besides the system's"},
    {"ws-ping-interval", 0, OPT_SECONDS, OFF(ws_ping_interval), NULL,
     "seconds of silence before a tracker pings its WebSocket peer; twice "
     "that unanswered drops the link (20)"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))
#define OPT_CONFIG 1000
#define OPT_HELP 1001
#define OPT_VERSION 1002

static void set_defaults(config *c)
{
    memset(c, 0, sizeof(*c));
    c->concurrency = CONFIG_DEFAULT_CONCURRENCY;
    c->prefetch_multiplier = 4;
    c->visibility_timeout = CONFIG_DEFAULT_VISIBILITY_TIMEOUT;
    c->result_expires = CONFIG_DEFAULT_RESULT_EXPIRES;
    c->loglevel = LOG_LEVEL_WARNING;
    c->max_message_size = CONFIG_DEFAULT_MAX_MESSAGE_SIZE;
    c->shutdown_timeout = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;
    c->ws_ping_interval = CONFIG_DEFAULT_WS_PING_INTERVAL;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static int set_list(config *c, const char *value, buf *err)
{
    free_list(c->queues, c->nqueues);
    c->queues = NULL;
    c->nqueues = 0;
    const char *p = value;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t len = n;
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len) {
            c->queues = xrealloc(c->queues, (c->nqueues + 1) * sizeof(char *));
            c->queues[c->nqueues++] = xstrndup(s, len);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (c->nqueues == 0) {
        buf_append_str(err, "--queues: no queue names given");
        return -1;
    }
    return 0;
}

static int parse_number(const char *value, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(d) || d < 0)
        return -1;
    *out = d;
    return 0;
}

static int parse_bool(const char *value, int *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Stores one option's value; value is NULL for a flag given bare. */
static int set_opt(config *c, const opt_def *o, const char *value, buf *err)
{
    char *field = (char *)c + o->offset;
    double d;
    switch (o->type) {
    case OPT_STR:
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case OPT_LIST:
        return set_list(c, value, err);
    case OPT_FLAG:
        if (!value) {
            *(int *)field = 1;
            return 0;
        }
        if (parse_bool(value, (int *)field) == 0)
            return 0;
        break;
    case OPT_UINT:
        if (parse_number(value, &d) == 0 && d == floor(d) && d >= 1 &&
            d <= 1000000) {
            *(unsigned *)field = (unsigned)d;
            return 0;
        }
        break;
    case OPT_SIZE:
        if (parse_number(value, &d) == 0 && d == floor(d) && d >= 1024 &&
            d <= (double)(1u << 30)) {
            *(size_t *)field = (size_t)d;
            return 0;
        }
        break;
    case OPT_SECONDS:
        if (parse_number(value, &d) == 0 && d <= 1e9) {
            *(double *)field = d;
            return 0;
        }
        break;
    case OPT_LEVEL:
        if (log_level_parse(value, (log_level *)field) == 0)
            return 0;
        break;
    }
    buf_printf(err, "--%s: invalid value '%.100s'", o->name,
               value ? value : "");
    return -1;
}

static const opt_def *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *a = opts[i].name, *b = name;
        while (*a && (*a == *b || (*a == '-' && *b == '_')))
            a++, b++;
        if (!*a && !*b)
            return &opts[i];
    }
    return NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s &&
           (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int load_file(config *c, const char *path, buf *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        buf_printf(err, "--config %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            buf_printf(err, "%s:%d: expected key = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        const opt_def *o = find_opt(key);
        if (!o) {
            buf_printf(err, "%s:%d: unknown setting '%.80s'", path, lineno,
                       key);
            rc = -1;
        } else {
            buf why;
            buf_init(&why);
            if (set_opt(c, o, value, &why)) {
                buf_printf(err, "%s:%d: %s", path, lineno, why.data);
                rc = -1;
            }
            buf_free(&why);
        }
    }
    fclose(f);
    return rc;
}

static int load_env(config *c, buf *err)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        if (v && *v && set_opt(c, &opts[i], v, err)) {
            buf_printf(err, " (from $%s)", opts[i].env);
            return -1;
        }
    }
    return 0;
}

static void print_help(const char *prog)
{
    printf("Usage: %s [options]\n\n"
           "A Celery 5 worker in C for the pose session tracker.\n\n",
           prog);
    for (size_t i = 0; i < NOPTS; i++) {
        char flag[64];
        if (opts[i].shortopt)
            snprintf(flag, sizeof(flag), "-%c, --%s", opts[i].shortopt,
                     opts[i].name);
        else
            snprintf(flag, sizeof(flag), "    --%s", opts[i].name);
        printf("  %-28s %s%s%s\n", flag, opts[i].help,
               opts[i].env ? "; env " : "", opts[i].env ? opts[i].env : "");
    }
    printf("  %-28s %s\n", "    --config FILE", "read settings (key = value)");
    printf("  %-28s %s\n", "    --version", "print the version and exit");
    printf("  %-28s %s\n", "-h, --help", "print this help and exit");
}

static void build_getopt(struct option *lo, char *so)
{
    size_t k = 0;
    char *s = so;
    for (size_t i = 0; i < NOPTS; i++) {
        int arg = opts[i].type == OPT_FLAG ? no_argument : required_argument;
        lo[k++] = (struct option){opts[i].name, arg, NULL, (int)(i + 1)};
        if (opts[i].shortopt) {
            *s++ = (char)opts[i].shortopt;
            if (opts[i].type != OPT_FLAG)
                *s++ = ':';
        }
    }
    lo[k++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    lo[k++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lo[k++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    lo[k] = (struct option){NULL, 0, NULL, 0};
    *s++ = 'h';
    *s = '\0';
}

static int short_to_index(int ch)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].shortopt == ch)
            return (int)i;
    return -1;
}

/* First pass: only --config, --help and --version, so the file can be
 * loaded before the command line overrides it. */
static config_result first_pass(config *c, int argc, char **argv,
                                struct option *lo, const char *so, buf *err)
{
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        if (ch == OPT_HELP || ch == 'h') {
            print_help(argv[0]);
            return CONFIG_EXIT;
        }
        if (ch == OPT_VERSION) {
            printf("posetrackd %s\n", POSETRACKD_VERSION);
            return CONFIG_EXIT;
        }
        if (ch == OPT_CONFIG && load_file(c, optarg, err))
            return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

static config_result second_pass(config *c, int argc, char **argv,
                                 struct option *lo, const char *so, buf *err)
{
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        if (ch == OPT_CONFIG)
            continue;
        if (ch == '?' || ch == ':') {
            buf_printf(err, "unknown or incomplete option '%s' (see --help)",
                       argv[optind - 1]);
            return CONFIG_ERROR;
        }
        int idx = ch >= 1 && ch <= (int)NOPTS ? ch - 1 : short_to_index(ch);
        if (idx < 0) {
            buf_printf(err, "unknown option (see --help)");
            return CONFIG_ERROR;
        }
        if (set_opt(c, &opts[idx], optarg, err))
            return CONFIG_ERROR;
    }
    if (optind < argc) {
        buf_printf(err, "unexpected argument '%s' (see --help)", argv[optind]);
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

/* Fills the values that depend on others, and checks the combination. */
static config_result finish(config *c, buf *err)
{
    if (!c->broker_url)
        c->broker_url = xstrdup("redis://localhost:6379/0");
    if (!c->result_backend)
        c->result_backend = xstrdup(c->broker_url);
    if (!c->queues && set_list(c, "celery", err))
        return CONFIG_ERROR;
    if (!c->hostname)
        c->hostname = xstrdup("posetrackd@%h");
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    buf h;
    buf_init(&h);
    for (const char *p = c->hostname; *p; p++) {
        if (p[0] == '%' && p[1] == 'h') {
            buf_append_str(&h, host);
            p++;
        } else {
            buf_append_char(&h, *p);
        }
    }
    free(c->hostname);
    c->hostname = buf_detach(&h, NULL);
    redis_url u;
    if (redis_url_parse(c->broker_url, &u, err)) {
        buf_printf(err, ": --broker / $CELERY_BROKER_URL '%.200s'",
                   c->broker_url);
        return CONFIG_ERROR;
    }
    redis_url_free(&u);
    if (strcmp(c->result_backend, "disabled") != 0) {
        if (redis_url_parse(c->result_backend, &u, err)) {
            buf_printf(err,
                       ": --result-backend / $CELERY_RESULT_BACKEND "
                       "'%.200s'",
                       c->result_backend);
            return CONFIG_ERROR;
        }
        redis_url_free(&u);
    }
    if (c->visibility_timeout < 1) {
        buf_append_str(err, "--visibility-timeout must be at least 1 second");
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

config_result config_load(config *c, int argc, char **argv, buf *err)
{
    set_defaults(c);
    struct option lo[NOPTS + 4];
    char so[2 * NOPTS + 2];
    build_getopt(lo, so);
    config_result r = load_env(c, err) ? CONFIG_ERROR : CONFIG_OK;
    if (r == CONFIG_OK)
        r = first_pass(c, argc, argv, lo, so, err);
    if (r == CONFIG_OK)
        r = second_pass(c, argc, argv, lo, so, err);
    if (r == CONFIG_OK)
        r = finish(c, err);
    return r;
}

void config_free(config *c)
{
    free(c->broker_url);
    free(c->result_backend);
    free_list(c->queues, c->nqueues);
    free(c->hostname);
    free(c->logfile);
    free(c->pidfile);
    free(c->statedb);
    free(c->wall_store);
    free(c->ws_ca_file);
    memset(c, 0, sizeof(*c));
}
