/* pyargs: positional arguments fill parameters in order, then keyword
 * arguments by name; too many, unknown, duplicated or missing arguments are
 * TypeErrors worded as CPython 3.11 words them. */
#include "pyargs.h"

#include <string.h>

static size_t count_required(const pyargs_param *params, size_t n)
{
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += params[i].required != 0;
    return r;
}

static void too_many(const char *func, const pyargs_param *params, size_t n,
                     size_t given, buf *err)
{
    size_t r = count_required(params, n);
    if (r == n)
        buf_printf(err, "%s() takes %zu positional argument%s but %zu %s given",
                   func, n, n == 1 ? "" : "s", given,
                   given == 1 ? "was" : "were");
    else
        buf_printf(err,
                   "%s() takes from %zu to %zu positional arguments but %zu "
                   "were given",
                   func, r, n, given);
}

static int find_param(const pyargs_param *params, size_t n, json_span key)
{
    for (size_t i = 0; i < n; i++)
        if (json_span_key_is(key, params[i].name))
            return (int)i;
    return -1;
}

static void missing(const char *func, const pyargs_param *params, size_t n,
                    const json_span *out, buf *err)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += params[i].required && out[i].len == 0;
    buf_printf(err, "%s() missing %zu required positional argument%s: ", func,
               count, count == 1 ? "" : "s");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!params[i].required || out[i].len)
            continue;
        if (k)
            buf_append_str(err, k + 1 == count ? " and " : ", ");
        buf_printf(err, "'%s'", params[i].name);
        k++;
    }
}

int pyargs_bind(const char *func, const pyargs_param *params, size_t n,
                json_span args, json_span kwargs, json_span *out, buf *err)
{
    memset(out, 0, n * sizeof(*out));
    size_t pos = 0, given = 0;
    json_span v, key;
    while (json_span_array_next(args, &pos, &v)) {
        if (given < n)
            out[given] = v;
        given++;
    }
    if (given > n) {
        too_many(func, params, n, given, err);
        return -1;
    }
    pos = 0;
    while (json_span_object_next(kwargs, &pos, &key, &v)) {
        int i = find_param(params, n, key);
        if (i < 0) {
            buf_printf(err, "%s() got an unexpected keyword argument '%.*s'",
                       func, (int)(key.len > 66 ? 64 : key.len - 2), key.p + 1);
            return -1;
        }
        if (out[i].len) {
            buf_printf(err, "%s() got multiple values for argument '%s'", func,
                       params[i].name);
            return -1;
        }
        out[i] = v;
    }
    for (size_t i = 0; i < n; i++) {
        if (params[i].required && out[i].len == 0) {
            missing(func, params, n, out, err);
            return -1;
        }
    }
    return 0;
}
