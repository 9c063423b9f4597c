/* tasks_builtin: diagnostic tasks every posetrackd answers to:
 *   posetrackd.echo(*args, **kwargs) -> [args, kwargs]
 *   posetrackd.sleep(seconds)        -> seconds, without blocking the loop
 *   posetrackd.fail(message)         -> raises ValueError(message) */
#ifndef POSETRACKD_TASKS_BUILTIN_H
#define POSETRACKD_TASKS_BUILTIN_H

#include "task.h"

extern const task_def tasks_builtin_echo;
extern const task_def tasks_builtin_sleep;
extern const task_def tasks_builtin_fail;

#endif
