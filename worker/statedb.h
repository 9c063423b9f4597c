/* statedb: the --statedb file, Celery's persistent worker state: the
 * revoked task ids, kept across restarts. */
#ifndef POSETRACKD_STATEDB_H
#define POSETRACKD_STATEDB_H

#include <jansson.h>

#include "buf.h"

/* Reads {"revoked": {id: time}} from path into revoked (an object), keeping
 * entries newer than max_age seconds. A missing file is an empty state.
 * Returns 0, or -1 with err for an unreadable or corrupt file. */
int statedb_load(const char *path, json_t *revoked, double now, double max_age,
                 buf *err);
/* Writes the state atomically (temporary file, fsync, rename). Returns 0
 * or -1 with err. */
int statedb_save(const char *path, const json_t *revoked, buf *err);

#endif
