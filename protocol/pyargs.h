/* pyargs: Python's rules for binding a call's args and kwargs to named
 * parameters, so a task reports the TypeError a Python task would. */
#ifndef POSETRACKD_PYARGS_H
#define POSETRACKD_PYARGS_H

#include <stddef.h>

#include "buf.h"
#include "json_span.h"

typedef struct pyargs_param {
    const char *name;
    int required; /* no default value */
} pyargs_param;

/* Binds positional args (a JSON array span) and kwargs (an object span) to
 * params[0..n). out[i] is the value for params[i], len 0 when not given.
 * Returns 0, or -1 with Python's TypeError message in err. */
int pyargs_bind(const char *func, const pyargs_param *params, size_t n,
                json_span args, json_span kwargs, json_span *out, buf *err);

#endif
