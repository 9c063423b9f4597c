/* task_registry: a small sorted table; lookups are a binary search on the
 * hot path of every message. */
#include "task_registry.h"

#include <string.h>

#include "tasks_builtin.h"

/* Built-ins, the tracker and its alias, and room for more. */
#define TASK_REGISTRY_MAX 64

static const task_def *defs[TASK_REGISTRY_MAX];
static size_t ndefs;

int task_registry_add(const task_def *def)
{
    if (ndefs == TASK_REGISTRY_MAX || task_registry_find(def->name))
        return -1;
    size_t i = ndefs;
    while (i > 0 && strcmp(defs[i - 1]->name, def->name) > 0) {
        defs[i] = defs[i - 1];
        i--;
    }
    defs[i] = def;
    ndefs++;
    return 0;
}

const task_def *task_registry_find(const char *name)
{
    size_t lo = 0, hi = ndefs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(defs[mid]->name, name);
        if (c == 0)
            return defs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t task_registry_count(void)
{
    return ndefs;
}

const task_def *task_registry_at(size_t i)
{
    return i < ndefs ? defs[i] : NULL;
}

void task_registry_add_builtins(void)
{
    task_registry_add(&tasks_builtin_echo);
    task_registry_add(&tasks_builtin_sleep);
    task_registry_add(&tasks_builtin_fail);
}
