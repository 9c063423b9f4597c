/* posetrackd: entry point. Reads the configuration, sets up logging and
 * the pidfile, registers the tasks (the built-in ones and the tracker) and runs
 * the worker's loop until a shutdown completes.
 *
 * Exit codes: 0 after a clean shutdown, 64 (EX_USAGE) for a bad command
 * line or configuration, 1 when the worker cannot start. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "pidfile.h"
#include "task_registry.h"
#include "tracker_task.h"
#include "worker.h"

#define EXIT_USAGE 64

int main(int argc, char **argv)
{
    config cfg;
    buf err;
    buf_init(&err);
    config_result cr = config_load(&cfg, argc, argv, &err);
    if (cr != CONFIG_OK) {
        if (cr == CONFIG_ERROR)
            fprintf(stderr, "posetrackd: %s\n", err.data);
        buf_free(&err);
        config_free(&cfg);
        return cr == CONFIG_EXIT ? 0 : EXIT_USAGE;
    }
    log_set_level(cfg.loglevel);
    if (log_open(cfg.logfile) != 0) {
        fprintf(stderr, "posetrackd: --logfile %s: cannot open\n", cfg.logfile);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (cfg.pidfile && pidfile_create(cfg.pidfile, &err) != 0) {
        log_critical("%s", err.data);
        buf_free(&err);
        config_free(&cfg);
        return 1;
    }
    task_registry_add_builtins();
    uv_loop_t *loop = uv_default_loop();
    wall_store *store =
        cfg.wall_store ? wall_store_file_open(cfg.wall_store) : NULL;
    if (tracker_task_setup(loop, store, cfg.ws_ca_file, cfg.ws_ping_interval,
                           &err) != 0) {
        log_critical("%s", err.data);
        return 1;
    }
    worker *w = worker_new(loop, &cfg);
    int rc = 0;
    if (worker_start(w, &err) != 0) {
        log_critical("cannot start: %s", err.data);
        worker_shutdown(w, 1);
        rc = 1;
    } else {
        worker_print_banner(w);
        log_warning("%s ready.", cfg.hostname);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    tracker_task_teardown();
    uv_loop_close(loop);
    worker_free(w);
    if (cfg.pidfile)
        pidfile_remove(cfg.pidfile);
    log_close();
    config_free(&cfg);
    buf_free(&err);
    return rc;
}
