/* task_registry: the names the worker answers to. Filled at start-up,
 * read-only afterwards. */
#ifndef POSETRACKD_TASK_REGISTRY_H
#define POSETRACKD_TASK_REGISTRY_H

#include <stddef.h>

#include "task.h"

/* Registers def (not copied: it must outlive the worker). Returns 0, or -1
 * if the name is taken. */
int task_registry_add(const task_def *def);
const task_def *task_registry_find(const char *name);
size_t task_registry_count(void);
const task_def *task_registry_at(size_t i);
/* Registers the built-in tasks (tasks_builtin). */
void task_registry_add_builtins(void);

#endif
