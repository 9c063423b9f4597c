/* Benchmark helper: the tracker's compute core alone, one thread, on a
 * wall from a store and frames from a JSON-lines file: frame text in,
 * session frame text out, repeated for a time. Prints frames/s as JSON.
 *
 *   tracker_core STORE FRAMES SECONDS        the measurement
 *   tracker_core STORE --outlines            the wall's flattened holds as
 *                                            JSON, for the Python peer */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracker_core.h"
#include "wall_store.h"

static wall *loaded;
static route *loaded_route;

static void got_wall(void *d, wall *w, wall_store_status st,
                     const char *err)
{
    (void)st;
    (void)d;
    if (!w)
        fprintf(stderr, "%s\n", err);
    loaded = w;
}

static void got_route(void *d, route *r, wall_store_status st,
                      const char *err)
{
    (void)st;
    (void)d;
    if (!r)
        fprintf(stderr, "%s\n", err);
    loaded_route = r;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void dump_outlines(const wall *w)
{
    const svg_wall *s = &w->svg;
    printf("{\"box\":[%.17g,%.17g,%.17g,%.17g],\"H\":[", s->x, s->y, s->width,
           s->height);
    for (int r = 0; r < 3; r++)
        printf("%s[%.17g,%.17g,%.17g]", r ? "," : "", w->calibration.h[r][0],
               w->calibration.h[r][1], w->calibration.h[r][2]);
    printf("],\"ext\":%.17g,\"holds\":[", w->hand_extension_percent);
    for (size_t i = 0; i < s->nholds; i++) {
        printf("%s{\"id\":\"%s\",\"rings\":[", i ? "," : "", s->holds[i].id);
        const outline *o = &s->holds[i].outline;
        for (size_t r = 0; r < o->nrings; r++) {
            printf("%s[", r ? "," : "");
            for (size_t k = 0; k < o->rings[r].n; k++)
                printf("%s[%.17g,%.17g]", k ? "," : "", o->rings[r].pts[k].x,
                       o->rings[r].pts[k].y);
            printf("]");
        }
        printf("]}");
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 64;
    wall_store *store = wall_store_file_open(argv[1]);
    wall_store_get_wall(store, 1, got_wall, NULL);
    if (!loaded)
        return 1;
    if (strcmp(argv[2], "--outlines") == 0) {
        dump_outlines(loaded);
        wall_unref(loaded);
        wall_store_close(store);
        return 0;
    }
    wall_store_get_route(store, 1, got_route, NULL);
    FILE *f = fopen(argv[2], "r");
    if (!f || argc < 4)
        return 64;
    double seconds = atof(argv[3]);
    char **frames = NULL;
    size_t *lens = NULL, n = 0, cap = 0, len = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &len, f)) > 0) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            frames = realloc(frames, cap * sizeof(char *));
            lens = realloc(lens, cap * sizeof(size_t));
        }
        frames[n] = strndup(line, (size_t)got);
        lens[n++] = (size_t)got;
    }
    fclose(f);
    free(line);
    static const tracker_params p = {50, 2.0, 0.2, 0, 0};
    tracker_core t;
    tracker_core_init(&t, loaded, loaded_route, &p, 1.8e9);
    buf out;
    buf_init(&out);
    size_t done = 0, bytes = 0;
    double t0 = now(), t1;
    do {
        for (size_t i = 0; i < n; i++) {
            buf_reset(&out);
            tracker_core_frame(&t, frames[i], lens[i], 1.8e9, &out);
            bytes += out.len;
        }
        done += n;
        t1 = now();
    } while (t1 - t0 < seconds);
    printf("{\"frames\":%zu,\"seconds\":%.3f,\"frames_per_s\":%.0f,"
           "\"output_bytes\":%zu,\"holds\":%zu,\"rejected\":%llu,"
           "\"last\":%s}\n",
           done, t1 - t0, done / (t1 - t0), bytes / done, loaded->svg.nholds,
           (unsigned long long)tracker_core_rejected(&t),
           out.len ? out.data : "null");
    tracker_core_free(&t);
    free(loaded_route);
    buf_free(&out);
    for (size_t i = 0; i < n; i++)
        free(frames[i]);
    free(frames);
    free(lens);
    wall_store_close(store);
    return 0;
}
