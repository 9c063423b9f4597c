/* statedb: a small JSON document rather than Celery's shelve (a Python
 * pickle database no C program should read); it is rewritten whole and
 * renamed into place, so a crash leaves the old state or the new one. */
#include "statedb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

int statedb_load(const char *path, json_t *revoked, double now, double max_age,
                 buf *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!doc) {
        if (access(path, F_OK) != 0 && errno == ENOENT)
            return 0;
        buf_printf(err, "statedb %s: %s (line %d)", path, jerr.text, jerr.line);
        return -1;
    }
    json_t *r = json_object_get(doc, "revoked");
    if (!json_is_object(r)) {
        json_decref(doc);
        buf_printf(err, "statedb %s: no \"revoked\" object", path);
        return -1;
    }
    const char *id;
    json_t *v;
    json_object_foreach(r, id, v)
    {
        if (json_is_number(v) && now - json_number_value(v) < max_age)
            json_object_set(revoked, id, v);
    }
    json_decref(doc);
    return 0;
}

int statedb_save(const char *path, const json_t *revoked, buf *err)
{
    buf tmp;
    buf_init(&tmp);
    buf_printf(&tmp, "%s.tmp", path);
    json_t *doc = json_pack("{s:O}", "revoked", (json_t *)revoked);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && text;
    if (ok) {
        size_t len = strlen(text), off = 0;
        while (ok && off < len) {
            ssize_t n = write(fd, text + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            ok = n > 0;
            off += n > 0 ? (size_t)n : 0;
        }
        ok = ok && fsync(fd) == 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp.data, path) != 0)
        ok = 0;
    if (!ok) {
        buf_printf(err, "statedb %s: %s", path, strerror(errno));
        unlink(tmp.data);
    }
    free(text);
    buf_free(&tmp);
    return ok ? 0 : -1;
}
