/* tracker_args: a table of parameters drives both the binding (names,
 * order) and the conversion (type, default, range), so the two cannot
 * disagree about a parameter. Conversions follow what the Python task's
 * int(), float() and json.loads() accept: a numeric string is a number. */
#include "tracker_args.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pyargs.h"
#include "ws_url.h"

typedef enum arg_kind {
    ARG_INT,
    ARG_STR,
    ARG_FLOAT,
    ARG_BOOL,
    ARG_ROUTE
} arg_kind;

typedef struct arg_spec {
    const char *name;
    arg_kind kind;
    size_t off;       /* into tracker_args */
    const char *dflt; /* JSON text of the default */
    double min;       /* floats and ints: the least value allowed */
    int min_open;     /* the minimum itself is not allowed */
} arg_spec;

#define OFF(f) offsetof(tracker_args, f)

static const arg_spec specs[] = {
    {"wall_id", ARG_INT, OFF(wall_id), "1", 1, 0},
    {"input_websocket_url", ARG_STR, OFF(input_url),
     "\"ws://localhost:8001/ws/pose/\"", 0, 0},
    {"output_websocket_url", ARG_STR, OFF(output_url),
     "\"ws://localhost:8002/ws/session/\"", 0, 0},
    {"proximity_threshold", ARG_FLOAT, OFF(params.proximity_threshold), "50.0",
     0, 0},
    {"touch_duration", ARG_FLOAT, OFF(params.touch_duration), "2.0", 0, 0},
    {"reconnect_delay", ARG_FLOAT, OFF(reconnect_delay), "5.0", 0, 1},
    {"debug", ARG_BOOL, OFF(debug), "false", 0, 0},
    {"no_stream_landmarks", ARG_BOOL, OFF(params.no_stream_landmarks), "false",
     0, 0},
    {"stream_svg_only", ARG_BOOL, OFF(params.stream_svg_only), "false", 0, 0},
    {"route_data", ARG_ROUTE, OFF(route_data), "null", 0, 0},
    {"route_id", ARG_INT, OFF(route_id), "null", 1, 0},
    {"control_websocket_url", ARG_STR, OFF(control_url), "null", 0, 0},
    {"visibility_threshold", ARG_FLOAT, OFF(params.visibility_threshold), "0.2",
     0, 0},
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Python's type names for the JSON a value arrived as. */
static const char *py_type(json_span v)
{
    switch (json_span_kind(v)) {
    case JSON_KIND_OBJECT:
        return "dict";
    case JSON_KIND_ARRAY:
        return "list";
    case JSON_KIND_STRING:
        return "str";
    case JSON_KIND_TRUE:
    case JSON_KIND_FALSE:
        return "bool";
    case JSON_KIND_NULL:
        return "NoneType";
    case JSON_KIND_NUMBER:
        return memchr(v.p, '.', v.len) || memchr(v.p, 'e', v.len) ||
                       memchr(v.p, 'E', v.len)
                   ? "float"
                   : "int";
    default:
        return "object";
    }
}

static int type_error(const arg_spec *s, const char *want, json_span v,
                      const char **exc, buf *err)
{
    *exc = "TypeError";
    buf_printf(err, "%s must be %s, not %s", s->name, want, py_type(v));
    return -1;
}

static int value_error(const char **exc, buf *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int value_error(const char **exc, buf *err, const char *fmt, ...)
{
    *exc = "ValueError";
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(err, fmt, ap);
    va_end(ap);
    return -1;
}

/* A number, or a string float() accepts; 1 if numeric, 0 if not. */
static int numeric(json_span v, buf *scratch, double *out, int *was_string)
{
    *was_string = 0;
    if (json_span_kind(v) == JSON_KIND_NUMBER)
        return json_span_number(v, out) == 0;
    if (json_span_kind(v) != JSON_KIND_STRING)
        return 0;
    *was_string = 1;
    buf_reset(scratch);
    if (json_span_string(v, scratch) < 0 || !scratch->data)
        return 0;
    char *end;
    *out = strtod(scratch->data, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n')
        end++;
    return end != scratch->data && *end == '\0';
}

static int convert_number(const arg_spec *s, json_span v, tracker_args *a,
                          buf *scratch, const char **exc, buf *err)
{
    double d;
    int was_string;
    int ok = numeric(v, scratch, &d, &was_string);
    if (!ok && !was_string)
        return type_error(s, s->kind == ARG_INT ? "an int" : "a float", v, exc,
                          err);
    if (!ok)
        return value_error(exc, err, "%s: could not convert '%s' to %s",
                           s->name, scratch->data ? scratch->data : "",
                           s->kind == ARG_INT ? "int" : "float");
    if (!isfinite(d) || d < s->min || (s->min_open && d == s->min))
        return value_error(exc, err, "%s must be %s %g, not %g", s->name,
                           s->min_open ? ">" : ">=", s->min, d);
    if (s->kind == ARG_FLOAT) {
        *(double *)((char *)a + s->off) = d;
        return 0;
    }
    if (d != floor(d) || d > 9.2e18)
        return value_error(exc, err, "%s must be an integer, not %g", s->name,
                           d);
    *(long *)((char *)a + s->off) = (long)d;
    return 0;
}

static int convert_str(const arg_spec *s, json_span v, tracker_args *a,
                       const char **exc, buf *err)
{
    char **dst = (char **)((char *)a + s->off);
    if (json_span_kind(v) == JSON_KIND_NULL && strcmp(s->dflt, "null") == 0)
        return 0;
    if (json_span_kind(v) != JSON_KIND_STRING)
        return type_error(s, "a str", v, exc, err);
    buf b;
    buf_init(&b);
    if (json_span_string(v, &b) < 0 || !b.data ||
        !tracker_args_url_ok(b.data)) {
        value_error(exc, err, "%s must be a ws:// or wss:// URL, not '%s'",
                    s->name, b.data ? b.data : "");
        buf_free(&b);
        return -1;
    }
    *dst = buf_detach(&b, NULL);
    return 0;
}

/* A JSON string holding the route, or the route object itself. */
static int convert_route(const arg_spec *s, json_span v, tracker_args *a,
                         const char **exc, buf *err)
{
    json_kind k = json_span_kind(v);
    if (k == JSON_KIND_NULL)
        return 0;
    if (k != JSON_KIND_STRING && k != JSON_KIND_OBJECT)
        return type_error(s, "a str or dict", v, exc, err);
    buf text;
    buf_init(&text);
    if (k == JSON_KIND_STRING)
        json_span_string(v, &text);
    else
        buf_append(&text, v.p, v.len);
    json_error_t je;
    a->route_data = json_loadb(text.data ? text.data : "", text.len, 0, &je);
    buf_free(&text);
    if (!a->route_data)
        return value_error(exc, err, "route_data is not valid JSON: %s",
                           je.text);
    if (!json_is_object(a->route_data))
        return value_error(exc, err, "route_data must be a JSON object");
    return 0;
}

static int convert(const arg_spec *s, json_span v, tracker_args *a,
                   buf *scratch, const char **exc, buf *err)
{
    switch (s->kind) {
    case ARG_INT:
        if (json_span_kind(v) == JSON_KIND_NULL && strcmp(s->dflt, "null") == 0)
            return 0;
        /* fall through */
    case ARG_FLOAT:
        return convert_number(s, v, a, scratch, exc, err);
    case ARG_STR:
        return convert_str(s, v, a, exc, err);
    case ARG_BOOL: {
        json_kind k = json_span_kind(v);
        if (k != JSON_KIND_TRUE && k != JSON_KIND_FALSE)
            return type_error(s, "a bool", v, exc, err);
        *(int *)((char *)a + s->off) = k == JSON_KIND_TRUE;
        return 0;
    }
    case ARG_ROUTE:
        return convert_route(s, v, a, exc, err);
    }
    return -1;
}

int tracker_args_parse(json_span args, json_span kwargs, tracker_args *out,
                       const char **exc_type, buf *err)
{
    memset(out, 0, sizeof(*out));
    pyargs_param params[NSPECS];
    json_span vals[NSPECS];
    for (size_t i = 0; i < NSPECS; i++)
        params[i] = (pyargs_param){specs[i].name, 0};
    if (pyargs_bind(TRACKER_TASK_FUNC, params, NSPECS, args, kwargs, vals,
                    err) < 0) {
        *exc_type = "TypeError";
        return -1;
    }
    buf scratch;
    buf_init(&scratch);
    int st = 0;
    for (size_t i = 0; i < NSPECS && st == 0; i++) {
        json_span v = vals[i];
        if (!v.len)
            json_span_whole(specs[i].dflt, strlen(specs[i].dflt), &v);
        st = convert(&specs[i], v, out, &scratch, exc_type, err);
    }
    buf_free(&scratch);
    if (st < 0)
        tracker_args_free(out);
    return st;
}

void tracker_args_free(tracker_args *a)
{
    free(a->input_url);
    free(a->output_url);
    free(a->control_url);
    json_decref(a->route_data);
    memset(a, 0, sizeof(*a));
}

int tracker_args_url_ok(const char *url)
{
    ws_url u;
    if (ws_url_parse(url, &u) < 0)
        return 0;
    ws_url_free(&u);
    return 1;
}
