/* pidfile: written to a temporary file and renamed into place, so a reader
 * never sees a half-written pid. */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid;
}

int pidfile_create(const char *path, buf *err)
{
    long old = read_pid(path);
    if (old > 0 && old != (long)getpid() &&
        (kill((pid_t)old, 0) == 0 || errno == EPERM)) {
        buf_printf(err, "pidfile %s names process %ld, which is running", path,
                   old);
        return -1;
    }
    buf tmp;
    buf_init(&tmp);
    buf_printf(&tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        buf_printf(err, "pidfile %s: %s", tmp.data, strerror(errno));
        buf_free(&tmp);
        return -1;
    }
    char line[32];
    int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    int ok = write(fd, line, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.data, path) != 0) {
        buf_printf(err, "pidfile %s: %s", path, strerror(errno));
        unlink(tmp.data);
        buf_free(&tmp);
        return -1;
    }
    buf_free(&tmp);
    return 0;
}

void pidfile_remove(const char *path)
{
    if (read_pid(path) == (long)getpid())
        unlink(path);
}
