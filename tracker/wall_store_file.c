/* wall_store_file: walls and routes as JSON files beside the SVGs. The
 * files are small and local, so they are read in place; a parsed wall is
 * kept (with its files' modification times) and handed out again until a
 * file changes, so a thousand trackers on one wall share one copy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wall_store.h"

typedef struct cached_wall {
    long id;
    wall *w;
    char *svg_path;
    struct timespec json_mtime, svg_mtime;
    struct cached_wall *next;
} cached_wall;

typedef struct file_store {
    wall_store base;
    char *dir;
    cached_wall *cache;
} file_store;

/* Reads a whole file of at most WALL_MAX_FILE_BYTES. */
static char *read_file(const char *path, size_t *len, buf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf_printf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > WALL_MAX_FILE_BYTES) {
            buf_printf(err, "%s: larger than %u bytes", path,
                       WALL_MAX_FILE_BYTES);
            fclose(f);
            buf_free(&b);
            return NULL;
        }
        buf_append(&b, chunk, n);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        buf_printf(err, "%s: read error", path);
        buf_free(&b);
        return NULL;
    }
    buf_reserve(&b, 1);
    return buf_detach(&b, len);
}

static json_t *read_json(const char *path, buf *err)
{
    size_t len;
    char *text = read_file(path, &len, err);
    if (!text)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!j)
        buf_printf(err, "%s: line %d: %s", path, je.line, je.text);
    else if (!json_is_object(j)) {
        buf_printf(err, "%s: not a JSON object", path);
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* svg_file must stay inside the store: no absolute paths, no "..". */
static int safe_relative(const char *p)
{
    if (!*p || *p == '/')
        return 0;
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return 0;
    return 1;
}

static wall *load_wall(file_store *fs, long id, const char *json_path,
                       char **svg_path, buf *err)
{
    json_t *j = read_json(json_path, err);
    if (!j)
        return NULL;
    wall *w = NULL;
    const json_t *svg = json_object_get(j, "svg_file");
    const json_t *H = json_object_get(j, "perspective_transform");
    const json_t *ext = json_object_get(j, "hand_extension_percent");
    const json_t *name = json_object_get(j, "name");
    if (!json_is_string(svg) || !safe_relative(json_string_value(svg))) {
        buf_printf(err, "%s: svg_file is not a relative path in the store",
                   json_path);
    } else if (!H || json_is_null(H)) {
        buf_printf(err, "%s: no calibration (perspective_transform)",
                   json_path);
    } else if (ext && !json_is_null(ext) && !json_is_number(ext)) {
        buf_printf(err, "%s: hand_extension_percent is not a number",
                   json_path);
    } else {
        buf p;
        buf_init(&p);
        buf_printf(&p, "%s/%s", fs->dir, json_string_value(svg));
        size_t len;
        char *text = read_file(p.data, &len, err);
        if (text) {
            buf werr;
            buf_init(&werr);
            w = wall_new(
                id, json_is_string(name) ? json_string_value(name) : "", text,
                len, H, json_is_number(ext) ? json_number_value(ext) : 20,
                &werr);
            if (!w)
                buf_printf(err, "%s: %s", p.data, werr.data);
            buf_free(&werr);
            free(text);
        }
        *svg_path = buf_detach(&p, NULL);
    }
    json_decref(j);
    return w;
}

static cached_wall *find_cached(file_store *fs, long id)
{
    for (cached_wall *c = fs->cache; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* The cached wall if neither of its files changed since it was read. */
static wall *fresh_cached(file_store *fs, long id, const struct stat *js)
{
    cached_wall *c = find_cached(fs, id);
    struct stat ss;
    if (!c || !same_time(c->json_mtime, js->st_mtim) ||
        stat(c->svg_path, &ss) < 0 || !same_time(c->svg_mtime, ss.st_mtim))
        return NULL;
    return wall_ref(c->w);
}

static void cache_wall(file_store *fs, wall *w, const struct stat *js,
                       char *svg_path)
{
    struct stat ss;
    if (stat(svg_path, &ss) < 0) {
        free(svg_path);
        return;
    }
    cached_wall *c = find_cached(fs, w->id);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        c->id = w->id;
        c->next = fs->cache;
        fs->cache = c;
    }
    wall_unref(c->w);
    free(c->svg_path);
    c->w = wall_ref(w);
    c->svg_path = svg_path;
    c->json_mtime = js->st_mtim;
    c->svg_mtime = ss.st_mtim;
}

static void file_get_wall(wall_store *s, long id, wall_store_wall_cb cb,
                          void *data)
{
    file_store *fs = (file_store *)s;
    buf path, err;
    buf_init(&path);
    buf_init(&err);
    buf_printf(&path, "%s/walls/%ld.json", fs->dir, id);
    struct stat js;
    wall *w = NULL;
    wall_store_status st = WALL_STORE_INVALID;
    if (stat(path.data, &js) < 0) {
        st = errno == ENOENT ? WALL_STORE_NOT_FOUND : WALL_STORE_UNAVAILABLE;
        buf_printf(&err, "wall %ld: %s: %s", id, path.data,
                   errno == ENOENT ? "no such wall" : strerror(errno));
    } else if (!(w = fresh_cached(fs, id, &js))) {
        char *svg_path = NULL;
        buf lerr;
        buf_init(&lerr);
        w = load_wall(fs, id, path.data, &svg_path, &lerr);
        if (w)
            cache_wall(fs, w, &js, svg_path);
        else {
            buf_printf(&err, "wall %ld: %s", id, lerr.data);
            free(svg_path);
        }
        buf_free(&lerr);
    }
    cb(data, w, w ? WALL_STORE_OK : st, w ? NULL : err.data);
    buf_free(&path);
    buf_free(&err);
}

/* Reads routes/<id>.json; NULL with err (not yet naming the route). */
static route *load_route(long id, const char *path, buf *err)
{
    json_t *j = read_json(path, err);
    if (!j)
        return NULL;
    const json_t *name = json_object_get(j, "name");
    buf rerr;
    buf_init(&rerr);
    route *r = xmalloc(sizeof(*r));
    if (route_from_json(json_object_get(j, "data"), id,
                        json_is_string(name) ? json_string_value(name) : "", r,
                        &rerr) < 0) {
        buf_printf(err, "%s: %s", path, rerr.data);
        free(r);
        r = NULL;
    }
    buf_free(&rerr);
    json_decref(j);
    return r;
}

static void file_get_route(wall_store *s, long id, wall_store_route_cb cb,
                           void *data)
{
    file_store *fs = (file_store *)s;
    buf path, err, why;
    buf_init(&path);
    buf_init(&err);
    buf_init(&why);
    buf_printf(&path, "%s/routes/%ld.json", fs->dir, id);
    route *r = NULL;
    struct stat sb;
    wall_store_status st = WALL_STORE_INVALID;
    if (stat(path.data, &sb) < 0) {
        st = errno == ENOENT ? WALL_STORE_NOT_FOUND : WALL_STORE_UNAVAILABLE;
        buf_printf(&why, "%s: %s", path.data,
                   errno == ENOENT ? "no such route" : strerror(errno));
    } else {
        r = load_route(id, path.data, &why);
    }
    if (!r)
        buf_printf(&err, "route %ld: %s", id, why.data);
    cb(data, r, r ? WALL_STORE_OK : st, r ? NULL : err.data);
    buf_free(&path);
    buf_free(&err);
    buf_free(&why);
}

static void file_close(wall_store *s)
{
    file_store *fs = (file_store *)s;
    for (cached_wall *c = fs->cache, *next; c; c = next) {
        next = c->next;
        wall_unref(c->w);
        free(c->svg_path);
        free(c);
    }
    free(fs->dir);
    free(fs);
}

static const wall_store_ops file_ops = {file_get_wall, file_get_route,
                                        file_close};

wall_store *wall_store_file_open(const char *dir)
{
    file_store *fs = xcalloc(1, sizeof(*fs));
    fs->base.ops = &file_ops;
    fs->dir = xstrdup(dir);
    return &fs->base;
}
