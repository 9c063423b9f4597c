/* pidfile: the --pidfile lock, as Celery's (a live process named in an
 * existing pidfile stops start-up; a stale one is replaced). */
#ifndef POSETRACKD_PIDFILE_H
#define POSETRACKD_PIDFILE_H

#include "buf.h"

/* Returns 0, or -1 with err. */
int pidfile_create(const char *path, buf *err);
void pidfile_remove(const char *path);

#endif
