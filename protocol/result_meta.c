/* result_meta: encoders for result documents and serialized exceptions.
 * Raw JSON spans are copied through untouched; everything else is escaped
 * here, so no caller builds JSON by hand. */
#include "result_meta.h"

#include <string.h>

#include "isotime.h"

static void put_str_or_null(buf *out, const char *s)
{
    if (s)
        buf_append_json_str(out, s, strlen(s));
    else
        buf_append_str(out, "null");
}

static void put_raw_or_null(buf *out, json_span v)
{
    if (v.len)
        buf_append(out, v.p, v.len);
    else
        buf_append_str(out, "null");
}

void result_meta_encode(buf *out, const result_meta *m)
{
    buf_append_str(out, "{\"status\": ");
    put_str_or_null(out, m->status);
    buf_append_str(out, ", \"result\": ");
    put_raw_or_null(out, m->result);
    buf_append_str(out, ", \"traceback\": ");
    put_str_or_null(out, m->traceback);
    buf_append_str(out, ", \"children\": [], \"date_done\": ");
    if (m->ready) {
        buf_append_char(out, '"');
        isotime_format_naive(out, m->date_done);
        buf_append_char(out, '"');
    } else {
        buf_append_str(out, "null");
    }
    if (m->group_id) {
        buf_append_str(out, ", \"group_id\": ");
        put_str_or_null(out, m->group_id);
    }
    if (m->parent_id) {
        buf_append_str(out, ", \"parent_id\": ");
        put_str_or_null(out, m->parent_id);
    }
    if (m->extended) {
        buf_append_str(out, ", \"name\": ");
        put_str_or_null(out, m->name);
        buf_append_str(out, ", \"args\": ");
        put_raw_or_null(out, m->args);
        buf_append_str(out, ", \"kwargs\": ");
        put_raw_or_null(out, m->kwargs);
        buf_append_str(out, ", \"worker\": ");
        put_str_or_null(out, m->worker);
        buf_printf(out, ", \"retries\": %ld, \"queue\": ", m->retries);
        put_str_or_null(out, m->queue);
    }
    buf_append_str(out, ", \"task_id\": ");
    put_str_or_null(out, m->task_id);
    buf_append_char(out, '}');
}

void result_meta_exception_args(buf *out, const char *exc_type,
                                const char *exc_module, json_span args)
{
    buf_append_str(out, "{\"exc_type\": ");
    put_str_or_null(out, exc_type);
    buf_append_str(out, ", \"exc_message\": ");
    if (args.len)
        buf_append(out, args.p, args.len);
    else
        buf_append_str(out, "[]");
    buf_append_str(out, ", \"exc_module\": ");
    put_str_or_null(out, exc_module);
    buf_append_char(out, '}');
}

void result_meta_exception(buf *out, const char *exc_type,
                           const char *exc_module, const char *message)
{
    buf args;
    buf_init(&args);
    buf_append_char(&args, '[');
    put_str_or_null(&args, message);
    buf_append_char(&args, ']');
    json_span s = {args.data, args.len};
    result_meta_exception_args(out, exc_type, exc_module, s);
    buf_free(&args);
}

void result_meta_traceback(buf *out, const char *name, const char *exc_type,
                           const char *message)
{
    buf_printf(out,
               "Traceback (most recent call last):\n"
               "  File \"posetrackd\", in %s\n%s: %s\n",
               name ? name : "?", exc_type, message ? message : "");
}
