/* Benchmark: parsing one MediaPipe pose frame (33 landmarks) with the
 * tracker's span scanner (pose_frame_parse) against jansson building a
 * tree and reading the same fields, in one run on the same frame. Prints
 * frames/s of each and the ratio; this is the measurement DESIGN asks for
 * before choosing the frame parser. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pose_frame.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_frame(buf *b)
{
    srand(7);
    buf_append_str(b, "{\"type\":\"pose\",\"timestamp\":1763644517219,"
                      "\"width\":480,\"height\":640,\"landmarks\":[");
    for (int i = 0; i < POSE_BODY_LANDMARKS; i++)
        buf_printf(b,
                   "%s{\"x\":%.17g,\"y\":%.17g,\"z\":%.17g,\"visibility\":"
                   "%.17g}",
                   i ? "," : "", rand() / (double)RAND_MAX,
                   rand() / (double)RAND_MAX, rand() / (double)RAND_MAX - 0.5,
                   rand() / (double)RAND_MAX);
    buf_append_str(b, "]}");
}

/* The same extraction with jansson: a tree per frame. */
static int parse_jansson(const char *s, size_t len, pose_frame *out)
{
    json_t *doc = json_loadb(s, len, 0, NULL);
    json_t *lms = json_object_get(doc, "landmarks");
    int ok = json_is_array(lms) && json_array_size(lms) == POSE_BODY_LANDMARKS;
    for (size_t i = 0; ok && i < POSE_BODY_LANDMARKS; i++) {
        json_t *l = json_array_get(lms, i);
        out->pose.lm[i].x = json_number_value(json_object_get(l, "x"));
        out->pose.lm[i].y = json_number_value(json_object_get(l, "y"));
        out->pose.lm[i].z = json_number_value(json_object_get(l, "z"));
        out->pose.lm[i].visibility =
            json_number_value(json_object_get(l, "visibility"));
    }
    out->timestamp_ms = json_number_value(json_object_get(doc, "timestamp"));
    json_decref(doc);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    buf b;
    buf_init(&b);
    make_frame(&b);
    pose_frame f;
    double sink = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (pose_frame_parse(b.data, b.len, &f) != POSE_FRAME_OK)
            return 1;
        sink += f.pose.lm[i % 33].x;
    }
    double t1 = now();
    for (long i = 0; i < n; i++) {
        if (parse_jansson(b.data, b.len, &f) != 0)
            return 1;
        sink += f.pose.lm[i % 33].x;
    }
    double t2 = now();
    double span = n / (t1 - t0), jan = n / (t2 - t1);
    printf("parse a %zu-byte pose frame (33 landmarks), %ld times each\n",
           b.len, n);
    printf("  span scanner (pose_frame_parse): %10.0f frames/s\n", span);
    printf("  jansson tree:                    %10.0f frames/s\n", jan);
    printf("  ratio: %.1fx  (checksum %.3f)\n", span / jan, sink);
    buf_free(&b);
    return 0;
}
