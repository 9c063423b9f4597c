/* libFuzzer target: any bytes from the input WebSocket parse to a frame or
 * a rejection; an accepted frame holds only finite numbers, and it agrees
 * with jansson (a tree parser using strtod) on validity and on every
 * coordinate to the bit, which checks the fast exact number reader. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pose_frame.h"

/* What JSON's grammar allows and jansson refuses: numbers beyond a
 * double, escapes of lone surrogates. */
static int jansson_only(const json_error_t *e)
{
    return strstr(e->text, "overflow") || strstr(e->text, "surrogate") ||
           strstr(e->text, "Unicode") || strstr(e->text, "too big");
}

static const json_t *landmarks_of(const json_t *doc)
{
    static const char *const keys[] = {"landmarks", "pose", "data"};
    /* jansson keeps the last duplicate key, the tracker the first: only
     * compare documents where that cannot differ. */
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(doc, keys[i]);
        if (v)
            return v;
    }
    return NULL;
}

static void compare(const uint8_t *data, size_t size, const pose_frame *f)
{
    json_error_t e;
    /* JSON allows "\u0000" in strings; jansson only with JSON_ALLOW_NUL. */
    json_t *doc = json_loadb((const char *)data, size,
                             JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    if (!doc) {
        if (jansson_only(&e))
            return;
        abort(); /* accepted text jansson calls invalid */
    }
    const json_t *lms = landmarks_of(doc);
    int ambiguous = (json_object_get(doc, "landmarks") != NULL) +
                        (json_object_get(doc, "pose") != NULL) +
                        (json_object_get(doc, "data") != NULL) >
                    1;
    if (!ambiguous && json_array_size(lms) == POSE_BODY_LANDMARKS) {
        for (size_t i = 0; i < POSE_BODY_LANDMARKS; i++) {
            const json_t *x = json_object_get(json_array_get(lms, i), "x");
            double want = json_number_value(x);
            if (json_is_real(x) && memcmp(&want, &f->pose.lm[i].x, 8) != 0)
                abort();
        }
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pose_frame f;
    pose_frame_status st = pose_frame_parse((const char *)data, size, &f);
    if (st == POSE_FRAME_OK) {
        for (int i = 0; i < POSE_BODY_LANDMARKS; i++) {
            const pose_landmark *l = &f.pose.lm[i];
            if (!isfinite(l->x) || !isfinite(l->y) || !isfinite(l->z) ||
                !isfinite(l->visibility))
                abort();
        }
        compare(data, size, &f);
    } else if (st != POSE_FRAME_NOT_JSON && st != POSE_FRAME_TOO_LARGE) {
        /* Rejected for its content: the text itself was valid JSON. */
        json_error_t e;
        json_t *doc = json_loadb(
            (const char *)data, size,
            JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
        if (!doc && !jansson_only(&e))
            abort();
        json_decref(doc);
    }
    return 0;
}
