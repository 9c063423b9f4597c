/* broker_redis: kombu's Redis transport, spoken so that posetrackd and
 * Python workers can consume the same queues (kombu/transport/redis.py).
 *
 * - Queues are lists: producers LPUSH, consumers pop from the right.
 *   Priority sub-queues "<q>\x06\x16<3|6|9>" are served after "<q>".
 * - Ack emulation: a delivered message is recorded in the hash `unacked`
 *   (tag -> [payload, exchange, routing_key]) and the sorted set
 *   `unacked_index` (tag -> delivery time). Ack deletes both. Entries older
 *   than the visibility timeout are pushed back on their queue by any
 *   worker holding `unacked_mutex`.
 *
 * Unlike kombu, popping and recording happen in one Lua script, so a
 * worker dying between the two cannot lose a message. Waiting for work
 * uses one blocking connection per queue key running BLMOVE k k RIGHT
 * RIGHT: it blocks until the list is non-empty and leaves it unchanged, so
 * waiting never takes a message out of Redis. */
#include "broker_redis.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "redis_client.h"

/* Messages popped per script call: large enough to amortise the round
 * trip, small enough to keep Redis responsive to other clients. */
#define FETCH_BATCH 256
/* Fetches in flight at once: while the worker runs one batch, Redis
 * prepares the next. */
#define FETCH_PIPELINE 2
/* Tags per HDEL/ZREM/ZADD command. */
#define TAG_CHUNK 1024
/* Oversized messages: this much of the tail comes back to the worker so it
 * can find the task id in the headers kombu writes after the body. */
#define OVERSIZED_TAIL 65536
/* How long the restore mutex is held at most, as kombu's default. */
#define MUTEX_EXPIRE_MS 300000
/* Restore scans at most this often; kombu's worker does it about every
 * 10 s. */
#define RESTORE_INTERVAL_MS 10000

static const char sep[] = "\x06\x16";
static const int priority_steps[] = {0, 3, 6, 9};
#define NSTEPS 4

/* Pops up to ARGV[1] messages, queue keys in priority order, recording
 * each in unacked/unacked_index in the same atomic step.
 *
 * Decoding every message with cjson costs Redis more CPU than everything
 * else the worker asks of it, so the delivery tag and delivery info are
 * found with plain searches in the "properties" object, which kombu writes
 * last; a key pattern cannot match inside a JSON string, where quotes are
 * escaped. Messages laid out differently fall back to cjson. */
static const char fetch_script[] =
    "local n = tonumber(ARGV[1])\n"
    "local maxsize = tonumber(ARGV[3])\n"
    "local tail = tonumber(ARGV[4])\n"
    "local function field(raw, name, from)\n"
    "  local _, e = string.find(raw, '\"' .. name .. '\": \"', from, true)\n"
    "  if not e then return nil end\n"
    "  local q = string.find(raw, '\"', e + 1, true)\n"
    "  if not q then return nil end\n"
    "  local v = string.sub(raw, e + 1, q - 1)\n"
    "  if string.find(v, '\\\\', 1, true) then return nil end\n"
    "  return v\n"
    "end\n"
    "local function scan(raw)\n"
    "  local p, pos = nil, math.max(1, #raw - 4096)\n"
    "  while true do\n"
    "    local s = string.find(raw, '\"properties\": {', pos, true)\n"
    "    if not s then break end\n"
    "    p, pos = s, s + 1\n"
    "  end\n"
    "  if not p then return nil end\n"
    "  local tag = field(raw, 'delivery_tag', p)\n"
    "  local d = string.find(raw, '\"delivery_info\": {', p, true)\n"
    "  if not tag or tag == '' or not d then return nil end\n"
    "  local ex, rk = field(raw, 'exchange', d), field(raw, 'routing_key', d)\n"
    "  if not ex or not rk then return nil end\n"
    "  return tag, '\"' .. ex .. '\"', '\"' .. rk .. '\"'\n"
    "end\n"
    "local function decode(raw)\n"
    "  local ok, m = pcall(cjson.decode, raw)\n"
    "  if not ok or type(m) ~= 'table' or type(m.properties) ~= 'table' then\n"
    "    return nil\n"
    "  end\n"
    "  local tag, di = m.properties.delivery_tag, m.properties.delivery_info\n"
    "  if type(tag) ~= 'string' or tag == '' then return nil end\n"
    "  local ex, rk = '', ''\n"
    "  if type(di) == 'table' then\n"
    "    if type(di.exchange) == 'string' then ex = di.exchange end\n"
    "    if type(di.routing_key) == 'string' then rk = di.routing_key end\n"
    "  end\n"
    "  return tag, cjson.encode(ex), cjson.encode(rk)\n"
    "end\n"
    "local out, idx, hash = {}, {}, {}\n"
    "for i = 3, #KEYS do\n"
    "  if n <= 0 then break end\n"
    "  local items = redis.call('RPOP', KEYS[i], n)\n"
    "  if items then\n"
    "    for _, raw in ipairs(items) do\n"
    "      n = n - 1\n"
    "      if #raw > maxsize then\n"
    "        out[#out + 1] = {2, KEYS[i], '', string.sub(raw, -tail), #raw}\n"
    "      else\n"
    "        local tag, ex, rk = scan(raw)\n"
    "        if not tag then tag, ex, rk = decode(raw) end\n"
    "        if tag then\n"
    "          idx[#idx + 1] = ARGV[2]\n"
    "          idx[#idx + 1] = tag\n"
    "          hash[#hash + 1] = tag\n"
    "          hash[#hash + 1] = '[' .. raw .. ', ' .. ex .. ', ' .. rk .. "
    "']'\n"
    "          out[#out + 1] = {1, KEYS[i], tag, raw, #raw}\n"
    "        else\n"
    "          out[#out + 1] = {0, KEYS[i], '', raw, #raw}\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if #idx > 0 then\n"
    "  redis.call('ZADD', KEYS[2], unpack(idx))\n"
    "  redis.call('HSET', KEYS[1], unpack(hash))\n"
    "end\n"
    "return out\n";

/* kombu's exchange lookup (virtual/base.py _lookup): the default exchange
 * routes to the queue named by the routing key; a direct exchange to the
 * queues in its _kombu.binding.<exchange> set whose routing key matches. */
#define LUA_BOUND_QUEUES                                                       \
    "local function bound_queues(ex, rk)\n"                                    \
    "  local queues = {}\n"                                                    \
    "  if ex == '' then\n"                                                     \
    "    if rk ~= '' then queues[1] = rk end\n"                                \
    "    return queues\n"                                                      \
    "  end\n"                                                                  \
    "  local sep = '\\6\\22'\n"                                                \
    "  for _, m in ipairs(redis.call('SMEMBERS', '_kombu.binding.' .. ex)) "   \
    "do\n"                                                                     \
    "    local a = string.find(m, sep, 1, true)\n"                             \
    "    local b = a and string.find(m, sep, a + 2, true)\n"                   \
    "    if b and string.sub(m, 1, a - 1) == rk then\n"                        \
    "      queues[#queues + 1] = string.sub(m, b + 2)\n"                       \
    "    end\n"                                                                \
    "  end\n"                                                                  \
    "  return queues\n"                                                        \
    "end\n"

/* Moves one message from unacked back to the queues its exchange binds
 * the routing key to, only if it is still unacked: two restorers racing
 * cannot both push it. With no queue to push to, the entry stays where it
 * is rather than vanish. */
static const char restore_script[] = LUA_BOUND_QUEUES
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 or ARGV[2] == '' then\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "  return 0\n"
    "end\n"
    "local queues = bound_queues(ARGV[3], ARGV[4])\n"
    "if #queues == 0 and ARGV[6] ~= '' then queues[1] = ARGV[6] end\n"
    "if #queues == 0 then return -1 end\n"
    "for _, q in ipairs(queues) do\n"
    "  if ARGV[5] == '1' then redis.call('LPUSH', q, ARGV[2])\n"
    "  else redis.call('RPUSH', q, ARGV[2]) end\n"
    "end\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "return #queues\n";

/* Publishes a message to an exchange as kombu's _put does: LPUSH onto
 * every bound queue. */
static const char publish_script[] = LUA_BOUND_QUEUES
    "local queues = bound_queues(ARGV[1], ARGV[2])\n"
    "for _, q in ipairs(queues) do redis.call('LPUSH', q, ARGV[3]) end\n"
    "return #queues\n";

/* Takes the restore mutex the way redis-py's Lock does (SET NX PX) and
 * lists the entries past the visibility timeout. */
static const char claim_script[] =
    "if not redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then\n"
    "  return false\n"
    "end\n"
    "local tags = redis.call('ZREVRANGEBYSCORE', KEYS[2], ARGV[1], 0,\n"
    "                        'LIMIT', 0, ARGV[2])\n"
    "local out = {}\n"
    "for _, t in ipairs(tags) do\n"
    "  out[#out + 1] = t\n"
    "  out[#out + 1] = redis.call('HGET', KEYS[1], t) or ''\n"
    "end\n"
    "return out\n";

static const char release_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";

typedef struct waiter waiter;

typedef struct broker_redis {
    broker base;
    uv_loop_t *loop;
    int db;        /* the Redis database: fanout channels are named by it */
    redis_url url; /* for the waiters of queues added later */
    char **queues;
    size_t nqueues;
    char **keys; /* queue keys in the order they are served */
    size_t *keylens;
    size_t nkeys;
    double visibility_timeout;
    size_t max_message_size;
    broker_message_cb on_message;
    void (*on_ready)(void *data);
    void *data;
    redis_client *cmd;
    waiter *waiters;
    size_t credit;   /* messages the worker can take beyond what it holds */
    size_t inflight; /* fetch scripts sent, replies not yet read */
    size_t inflight_asked;
    size_t asked[FETCH_PIPELINE]; /* batch sizes, in reply order */
    size_t asked_head;
    int drained;    /* the last fetch came back short: wait for a waiter */
    int delivering; /* inside a reply's deliveries: no new fetches yet */
    int consuming;
    int closing;
    int final_ping; /* the PING that ends closing was sent */
    char **acks;
    size_t nacks, acks_cap;
    uv_prepare_t flush;
    uv_timer_t restore_timer;
    char mutex_token[64];
    broker_closed_cb closed_cb;
    void *closed_data;
    int handles_open;
} broker_redis;

struct waiter {
    broker_redis *b;
    size_t key;
    redis_client *rc;
    int armed;
};

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void fetch(broker_redis *b);
static void arm_waiters(broker_redis *b);

/* The queue a key belongs to: the key without its priority suffix. */
static const char *queue_of_key(broker_redis *b, const char *key, size_t len)
{
    for (size_t i = 0; i < b->nkeys; i++)
        if (b->keylens[i] == len && memcmp(b->keys[i], key, len) == 0)
            return b->queues[i % b->nqueues];
    return "";
}

static void deliver_item(broker_redis *b, redisReply *it)
{
    if (it->type != REDIS_REPLY_ARRAY || it->elements != 5 ||
        it->element[0]->type != REDIS_REPLY_INTEGER ||
        it->element[3]->type != REDIS_REPLY_STRING)
        return;
    broker_delivery d = {0};
    long long st = it->element[0]->integer;
    d.status = st == 1   ? BROKER_DELIVERY_OK
               : st == 2 ? BROKER_DELIVERY_OVERSIZED
                         : BROKER_DELIVERY_MALFORMED;
    d.queue = queue_of_key(b, it->element[1]->str, it->element[1]->len);
    d.tag = it->element[2]->str;
    d.raw = it->element[3]->str;
    d.len = it->element[3]->len;
    d.full_len = it->element[4]->type == REDIS_REPLY_INTEGER
                     ? (size_t)it->element[4]->integer
                     : d.len;
    b->on_message(&b->base, &d, b->data);
}

static void send_final_ping(broker_redis *b);

static void on_fetch_reply(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    broker_redis *b = privdata;
    size_t asked = b->asked[b->asked_head];
    b->asked_head = (b->asked_head + 1) % FETCH_PIPELINE;
    b->inflight--;
    b->inflight_asked -= asked;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r)
            log_error("broker: fetch script failed: %.*s", (int)r->len,
                      r->str ? r->str : "");
        if (b->closing && b->inflight == 0)
            send_final_ping(b);
        return; /* reconnection restarts fetching */
    }
    /* The worker updates the credit as it takes each message; fetching
     * resumes once the whole batch is in. */
    b->drained = r->elements < asked;
    b->delivering = 1;
    /* Delivered even while closing: the messages are recorded as unacked,
     * and the worker hands them straight back. */
    for (size_t i = 0; i < r->elements; i++)
        deliver_item(b, r->element[i]);
    b->delivering = 0;
    if (b->closing && b->inflight == 0)
        send_final_ping(b);
    if (!b->consuming)
        return;
    if (b->drained)
        arm_waiters(b);
    fetch(b);
}

static void fetch_one(broker_redis *b, size_t n)
{
    size_t argc = 3 + 2 + b->nkeys + 4;
    const char **argv = xmalloc(argc * sizeof(char *));
    size_t *lens = xmalloc(argc * sizeof(size_t));
    char nkeys[24], count[24], now[32], maxsize[24], tail[24];
    snprintf(nkeys, sizeof(nkeys), "%zu", b->nkeys + 2);
    snprintf(count, sizeof(count), "%zu", n);
    snprintf(now, sizeof(now), "%.6f", now_seconds());
    snprintf(maxsize, sizeof(maxsize), "%zu", b->max_message_size);
    snprintf(tail, sizeof(tail), "%d", OVERSIZED_TAIL);
    size_t k = 0;
    argv[k++] = "EVAL";
    argv[k++] = fetch_script;
    argv[k++] = nkeys;
    argv[k++] = "unacked";
    argv[k++] = "unacked_index";
    for (size_t i = 0; i < b->nkeys; i++) {
        lens[k] = b->keylens[i];
        argv[k++] = b->keys[i];
    }
    argv[k++] = count;
    argv[k++] = now;
    argv[k++] = maxsize;
    argv[k++] = tail;
    for (size_t i = 0; i < k; i++)
        if (i < 5 || i >= 5 + b->nkeys)
            lens[i] = strlen(argv[i]);
    if (redis_client_command(b->cmd, on_fetch_reply, b, (int)k, argv, lens) ==
        0) {
        b->asked[(b->asked_head + b->inflight) % FETCH_PIPELINE] = n;
        b->inflight++;
        b->inflight_asked += n;
    }
    free(argv);
    free(lens);
}

static void fetch(broker_redis *b)
{
    while (b->consuming && !b->delivering && !b->drained &&
           b->inflight < FETCH_PIPELINE && b->credit > b->inflight_asked &&
           redis_client_ready(b->cmd)) {
        size_t avail = b->credit - b->inflight_asked;
        size_t before = b->inflight;
        fetch_one(b, avail < FETCH_BATCH ? avail : FETCH_BATCH);
        if (b->inflight == before)
            return;
    }
}

static void on_wait_reply(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    waiter *w = privdata;
    w->armed = 0;
    if (!r || w->b->closing)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("broker: BLMOVE on queue failed: %.*s", (int)r->len, r->str);
        return;
    }
    w->b->drained = 0;
    fetch(w->b);
}

static void arm_waiter(waiter *w)
{
    broker_redis *b = w->b;
    if (w->armed || !b->consuming || !redis_client_ready(w->rc))
        return;
    const char *key = b->keys[w->key];
    size_t klen = b->keylens[w->key];
    const char *argv[] = {"BLMOVE", key, key, "RIGHT", "RIGHT", "0"};
    size_t lens[] = {6, klen, klen, 5, 5, 1};
    if (redis_client_command(w->rc, on_wait_reply, w, 6, argv, lens) == 0)
        w->armed = 1;
}

static void arm_waiters(broker_redis *b)
{
    for (size_t i = 0; i < b->nkeys; i++)
        arm_waiter(&b->waiters[i]);
}

static void on_waiter_state(redis_client *rc, int ready, void *data)
{
    (void)rc;
    waiter *w = data;
    if (!ready) {
        w->armed = 0;
        return;
    }
    arm_waiter(w);
}

static void declare_bindings(broker_redis *b)
{
    /* Celery declares each queue bound to a direct exchange of the same
     * name with the queue name as routing key; kombu's restore and the
     * client's routing read these sets. */
    for (size_t i = 0; i < b->nqueues; i++) {
        buf key, member;
        buf_init(&key);
        buf_init(&member);
        buf_printf(&key, "_kombu.binding.%s", b->queues[i]);
        buf_printf(&member, "%s%s%s%s", b->queues[i], sep, sep, b->queues[i]);
        const char *argv[] = {"SADD", key.data, member.data};
        size_t lens[] = {4, key.len, member.len};
        redis_client_command(b->cmd, NULL, NULL, 3, argv, lens);
        buf_free(&key);
        buf_free(&member);
    }
}

static void flush_acks(broker_redis *b);

static void on_cmd_state(redis_client *rc, int ready, void *data)
{
    (void)rc;
    broker_redis *b = data;
    if (!ready)
        return; /* in-flight fetches come back as NULL replies */
    /* After an outage the queues may hold anything: look before waiting. */
    b->drained = 0;
    declare_bindings(b);
    flush_acks(b);
    if (b->on_ready)
        b->on_ready(b->data);
    fetch(b);
}

/* Sends `CMD key tag...` in chunks; for ZADD each tag is preceded by the
 * score. */
static void send_tag_command(broker_redis *b, const char *cmd, const char *key,
                             const char *score, char **tags, size_t n)
{
    int with_score = score != NULL;
    size_t per = with_score ? 2 : 1;
    size_t head = with_score ? 3 : 2; /* ZADD key XX */
    const char **argv = xmalloc((head + per * n) * sizeof(char *));
    size_t *lens = xmalloc((head + per * n) * sizeof(size_t));
    size_t k = 0;
    argv[k++] = cmd;
    argv[k++] = key;
    if (with_score)
        argv[k++] = "XX";
    for (size_t i = 0; i < n; i++) {
        if (with_score)
            argv[k++] = score;
        argv[k++] = tags[i];
    }
    for (size_t i = 0; i < k; i++)
        lens[i] = strlen(argv[i]);
    redis_client_command(b->cmd, NULL, NULL, (int)k, argv, lens);
    free(argv);
    free(lens);
}

static void flush_acks(broker_redis *b)
{
    if (b->nacks == 0 || !redis_client_ready(b->cmd))
        return;
    for (size_t off = 0; off < b->nacks; off += TAG_CHUNK) {
        size_t n = b->nacks - off < TAG_CHUNK ? b->nacks - off : TAG_CHUNK;
        send_tag_command(b, "HDEL", "unacked", NULL, b->acks + off, n);
        send_tag_command(b, "ZREM", "unacked_index", NULL, b->acks + off, n);
    }
    for (size_t i = 0; i < b->nacks; i++)
        free(b->acks[i]);
    b->nacks = 0;
    uv_prepare_stop(&b->flush);
}

static void on_flush(uv_prepare_t *h)
{
    flush_acks(h->data);
}

static void redis_ack(broker *base, const char *tag)
{
    broker_redis *b = (broker_redis *)base;
    if (b->nacks == b->acks_cap) {
        b->acks_cap = b->acks_cap ? b->acks_cap * 2 : 64;
        b->acks = xrealloc(b->acks, b->acks_cap * sizeof(char *));
    }
    b->acks[b->nacks++] = xstrdup(tag);
    /* Acks made during one loop iteration leave together in one HDEL and
     * one ZREM, written just before the loop polls again. */
    uv_prepare_start(&b->flush, on_flush);
}

/* kombu marks restored messages as redelivered in the headers and the
 * delivery info; if the payload cannot be parsed it goes back as it was. */
/* kombu marks restored messages as redelivered in the headers and the
 * delivery info. m is the parsed message, or NULL when it could not be
 * parsed: then the raw bytes go back as they were. */
static char *restore_payload(json_t *m, const char *raw, size_t len,
                             size_t *outlen)
{
    char *s = NULL;
    if (json_is_object(m)) {
        json_t *h = json_object_get(m, "headers");
        if (json_is_object(h))
            json_object_set_new(h, "redelivered", json_true());
        json_t *di =
            json_object_get(json_object_get(m, "properties"), "delivery_info");
        if (json_is_object(di))
            json_object_set_new(di, "redelivered", json_true());
        s = json_dumps(m, JSON_COMPACT);
    }
    if (!s) {
        *outlen = len;
        return xstrndup(raw ? raw : "", len);
    }
    *outlen = strlen(s);
    return s;
}

/* Parses exactly (integers stay integers when the message goes back); a
 * message with an integer beyond 64 bits is returned as it was. */
static json_t *parse_message(const char *raw, size_t len)
{
    json_t *m = json_loadb(raw, len, 0, NULL);
    if (!json_is_object(m)) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static void delivery_route(json_t *m, const char **ex, const char **rk)
{
    json_t *di =
        json_object_get(json_object_get(m, "properties"), "delivery_info");
    *ex = json_string_value(json_object_get(di, "exchange"));
    *rk = json_string_value(json_object_get(di, "routing_key"));
}

static void restore_message(broker_redis *b, const char *tag, json_t *m,
                            const char *raw, size_t len, const char *exchange,
                            const char *routing_key, int leftmost,
                            const char *fallback_queue)
{
    size_t plen = 0;
    char *payload = restore_payload(m, raw, len, &plen);
    const char *argv[] = {"EVAL",
                          restore_script,
                          "2",
                          "unacked",
                          "unacked_index",
                          tag,
                          payload,
                          exchange ? exchange : "",
                          routing_key ? routing_key : "",
                          leftmost ? "1" : "0",
                          fallback_queue ? fallback_queue : ""};
    size_t lens[11];
    for (int i = 0; i < 11; i++)
        lens[i] = strlen(argv[i]);
    lens[6] = plen;
    if (redis_client_command(b->cmd, NULL, NULL, 11, argv, lens) != 0)
        log_warning("broker: cannot return message %s to its queue now (no "
                    "connection); it stays unacknowledged and is restored "
                    "after the visibility timeout",
                    tag);
    free(payload);
}

static void redis_requeue(broker *base, const char *tag, const char *queue,
                          const char *raw, size_t len)
{
    broker_redis *b = (broker_redis *)base;
    /* Acks queued before this requeue must not delete the entry after the
     * message is back on its queue, so they leave first. */
    flush_acks(b);
    json_t *m = parse_message(raw, len);
    const char *ex, *rk;
    delivery_route(m, &ex, &rk);
    restore_message(b, tag, m, raw, len, ex, rk, 0, queue);
    json_decref(m);
}

static int redis_publish(broker *base, const char *exchange,
                         const char *routing_key, const char *payload,
                         size_t len)
{
    broker_redis *b = (broker_redis *)base;
    const char *argv[] = {"EVAL",   publish_script, "0",
                          exchange, routing_key,    payload};
    size_t lens[] = {
        4,  strlen(publish_script), 1, strlen(exchange), strlen(routing_key),
        len};
    return redis_client_command(b->cmd, NULL, NULL, 6, argv, lens);
}

/* kombu's fanout over PUB/SUB with fanout_prefix and fanout_patterns on
 * (its defaults): the channel is "/<db>.<exchange>/<routing key>". */
static int redis_publish_fanout(broker *base, const char *exchange,
                                const char *routing_key, const char *payload,
                                size_t len)
{
    broker_redis *b = (broker_redis *)base;
    buf chan;
    buf_init(&chan);
    buf_printf(&chan, "/%d.%s", b->db, exchange);
    if (routing_key && *routing_key)
        buf_printf(&chan, "/%s", routing_key);
    const char *argv[] = {"PUBLISH", chan.data, payload};
    size_t lens[] = {7, chan.len, len};
    int rc = redis_client_command(b->cmd, NULL, NULL, 3, argv, lens);
    buf_free(&chan);
    return rc;
}

static void redis_touch(broker *base, const char *const *tags, size_t n)
{
    broker_redis *b = (broker_redis *)base;
    if (!redis_client_ready(b->cmd) || n == 0)
        return;
    char score[32];
    snprintf(score, sizeof(score), "%.6f", now_seconds());
    for (size_t off = 0; off < n; off += TAG_CHUNK) {
        size_t k = n - off < TAG_CHUNK ? n - off : TAG_CHUNK;
        send_tag_command(b, "ZADD", "unacked_index", score,
                         (char **)(tags + off), k);
    }
}

/* One entry of unacked: [payload, exchange, routing_key]. */
static void restore_entry(broker_redis *b, const char *tag, redisReply *entry)
{
    json_t *e = NULL;
    /* Exact first, so integers stay integers; an integer beyond 64 bits
     * still gets the message back, as a real. */
    if (entry->type == REDIS_REPLY_STRING && entry->len) {
        e = json_loadb(entry->str, entry->len, 0, NULL);
        if (!e)
            e = json_loadb(entry->str, entry->len, JSON_DECODE_INT_AS_REAL,
                           NULL);
    }
    json_t *m = json_array_get(e, 0);
    if (!json_is_object(m)) {
        /* Unreadable here: with an empty payload the script only removes
         * the entry, so it cannot block the index forever. */
        log_warning("broker: unacked entry %s is unreadable; removing it", tag);
        m = NULL;
    } else {
        log_warning("broker: restoring unacknowledged message %s (visibility "
                    "timeout passed)",
                    tag);
    }
    restore_message(b, tag, m, NULL, 0, json_string_value(json_array_get(e, 1)),
                    json_string_value(json_array_get(e, 2)), 0,
                    b->nqueues ? b->queues[0] : NULL);
    json_decref(e);
}

static void on_claim_reply(redis_client *rc, redisReply *r, void *privdata)
{
    (void)rc;
    broker_redis *b = privdata;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return; /* mutex held elsewhere, or no connection */
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            restore_entry(b, r->element[i]->str, r->element[i + 1]);
    const char *argv[] = {"EVAL", release_script, "1", "unacked_mutex",
                          b->mutex_token};
    size_t lens[5];
    for (int i = 0; i < 5; i++)
        lens[i] = strlen(argv[i]);
    redis_client_command(b->cmd, NULL, NULL, 5, argv, lens);
}

static void on_restore_timer(uv_timer_t *t)
{
    broker_redis *b = t->data;
    if (!redis_client_ready(b->cmd))
        return;
    char ceil[32], mutex_ms[24];
    snprintf(ceil, sizeof(ceil), "%.6f", now_seconds() - b->visibility_timeout);
    snprintf(mutex_ms, sizeof(mutex_ms), "%d", MUTEX_EXPIRE_MS);
    const char *argv[] = {"EVAL",          claim_script,    "3",  "unacked",
                          "unacked_index", "unacked_mutex", ceil, "1000",
                          b->mutex_token,  mutex_ms};
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    redis_client_command(b->cmd, on_claim_reply, b, 10, argv, lens);
}

static void redis_start(broker *base)
{
    broker_redis *b = (broker_redis *)base;
    b->consuming = 1;
    redis_client_start(b->cmd);
    for (size_t i = 0; i < b->nkeys; i++)
        redis_client_start(b->waiters[i].rc);
    uint64_t every = (uint64_t)(b->visibility_timeout * 1000 / 2);
    if (every > RESTORE_INTERVAL_MS)
        every = RESTORE_INTERVAL_MS;
    if (every < 200)
        every = 200;
    /* The first scan runs soon after start-up, as kombu's on_poll_init
     * does, so messages of a worker that died are not kept waiting. */
    uv_timer_start(&b->restore_timer, on_restore_timer, 500, every);
}

static void redis_set_credit(broker *base, size_t credit)
{
    broker_redis *b = (broker_redis *)base;
    b->credit = credit;
    fetch(b);
}

static void close_waiters(broker_redis *b)
{
    for (size_t i = 0; i < b->nkeys; i++) {
        if (b->waiters[i].rc) {
            redis_client_close(b->waiters[i].rc);
            b->waiters[i].rc = NULL;
        }
    }
}

static void redis_stop_consuming(broker *base)
{
    broker_redis *b = (broker_redis *)base;
    b->consuming = 0;
    b->credit = 0;
    close_waiters(b);
}

static void free_broker(broker_redis *b)
{
    for (size_t i = 0; i < b->nqueues; i++)
        free(b->queues[i]);
    for (size_t i = 0; i < b->nkeys; i++)
        free(b->keys[i]);
    for (size_t i = 0; i < b->nacks; i++)
        free(b->acks[i]);
    free(b->queues);
    free(b->keys);
    free(b->keylens);
    free(b->waiters);
    redis_url_free(&b->url);
    free(b->acks);
    broker_closed_cb cb = b->closed_cb;
    void *data = b->closed_data;
    free(b);
    if (cb)
        cb(NULL, data);
}

static void on_handle_closed(uv_handle_t *h)
{
    broker_redis *b = h->data;
    if (--b->handles_open == 0)
        free_broker(b);
}

/* The PING reply proves every command sent before it (acks, requeues) has
 * been executed, so closing after it loses nothing. */
static void on_final_ping(redis_client *rc, redisReply *r, void *privdata)
{
    (void)r;
    broker_redis *b = privdata;
    redis_client_close(rc);
    b->cmd = NULL;
    uv_close((uv_handle_t *)&b->flush, on_handle_closed);
    uv_close((uv_handle_t *)&b->restore_timer, on_handle_closed);
}

static void send_final_ping(broker_redis *b)
{
    if (b->final_ping)
        return;
    b->final_ping = 1;
    flush_acks(b);
    const char *argv[] = {"PING"};
    size_t lens[] = {4};
    if (redis_client_command(b->cmd, on_final_ping, b, 1, argv, lens) != 0)
        on_final_ping(b->cmd, NULL, b);
}

static void redis_close(broker *base, broker_closed_cb cb, void *data)
{
    broker_redis *b = (broker_redis *)base;
    redis_stop_consuming(base);
    b->closing = 1;
    b->closed_cb = cb;
    b->closed_data = data;
    uv_timer_stop(&b->restore_timer);
    /* Fetches in flight still bring messages; the last one's reply sends
     * the final PING instead. */
    if (b->inflight == 0)
        send_final_ping(b);
}

static int redis_add_queue(broker *base, const char *queue);
static int redis_cancel_queue(broker *base, const char *queue);
static const char *const *redis_queues(broker *base, size_t *n);

static const broker_ops redis_ops = {
    .start = redis_start,
    .set_credit = redis_set_credit,
    .ack = redis_ack,
    .requeue = redis_requeue,
    .touch = redis_touch,
    .publish = redis_publish,
    .publish_fanout = redis_publish_fanout,
    .add_queue = redis_add_queue,
    .cancel_queue = redis_cancel_queue,
    .queues = redis_queues,
    .stop_consuming = redis_stop_consuming,
    .close = redis_close,
};

static void build_keys(broker_redis *b)
{
    b->nkeys = b->nqueues * NSTEPS;
    b->keys = xcalloc(b->nkeys, sizeof(char *));
    b->keylens = xcalloc(b->nkeys, sizeof(size_t));
    size_t k = 0;
    /* kombu's BRPOP order: every queue at priority 0, then at 3, ... */
    for (int s = 0; s < NSTEPS; s++) {
        for (size_t q = 0; q < b->nqueues; q++) {
            buf key;
            buf_init(&key);
            buf_append_str(&key, b->queues[q]);
            if (priority_steps[s])
                buf_printf(&key, "%s%d", sep, priority_steps[s]);
            b->keys[k] = buf_detach(&key, &b->keylens[k]);
            k++;
        }
    }
}

static void make_waiters(broker_redis *b)
{
    b->waiters = xcalloc(b->nkeys ? b->nkeys : 1, sizeof(waiter));
    for (size_t i = 0; i < b->nkeys; i++) {
        b->waiters[i].b = b;
        b->waiters[i].key = i;
        b->waiters[i].rc = redis_client_new(b->loop, &b->url, "broker",
                                            on_waiter_state, &b->waiters[i]);
    }
}

/* The queue set changed: new keys, new waiters, and a look at the queues
 * before waiting again. */
static void rebuild_queues(broker_redis *b)
{
    close_waiters(b);
    free(b->waiters);
    for (size_t i = 0; i < b->nkeys; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b->keylens);
    build_keys(b);
    make_waiters(b);
    if (b->consuming)
        for (size_t i = 0; i < b->nkeys; i++)
            redis_client_start(b->waiters[i].rc);
    if (redis_client_ready(b->cmd))
        declare_bindings(b);
    b->drained = 0;
    fetch(b);
}

static int queue_index(broker_redis *b, const char *queue)
{
    for (size_t i = 0; i < b->nqueues; i++)
        if (strcmp(b->queues[i], queue) == 0)
            return (int)i;
    return -1;
}

static int redis_add_queue(broker *base, const char *queue)
{
    broker_redis *b = (broker_redis *)base;
    if (queue_index(b, queue) >= 0)
        return -1;
    b->queues = xrealloc(b->queues, (b->nqueues + 1) * sizeof(char *));
    b->queues[b->nqueues++] = xstrdup(queue);
    rebuild_queues(b);
    return 0;
}

static int redis_cancel_queue(broker *base, const char *queue)
{
    broker_redis *b = (broker_redis *)base;
    int i = queue_index(b, queue);
    if (i < 0)
        return -1;
    free(b->queues[i]);
    memmove(b->queues + i, b->queues + i + 1,
            (b->nqueues - (size_t)i - 1) * sizeof(char *));
    b->nqueues--;
    rebuild_queues(b);
    return 0;
}

static const char *const *redis_queues(broker *base, size_t *n)
{
    broker_redis *b = (broker_redis *)base;
    *n = b->nqueues;
    return (const char *const *)b->queues;
}

broker *broker_redis_new(uv_loop_t *loop, const redis_url *url,
                         const broker_redis_options *opts)
{
    broker_redis *b = xcalloc(1, sizeof(*b));
    b->base.ops = &redis_ops;
    b->loop = loop;
    b->db = url->db;
    redis_url_copy(&b->url, url);
    b->nqueues = opts->nqueues;
    b->queues = xcalloc(opts->nqueues, sizeof(char *));
    for (size_t i = 0; i < opts->nqueues; i++)
        b->queues[i] = xstrdup(opts->queues[i]);
    b->visibility_timeout = opts->visibility_timeout;
    b->max_message_size = opts->max_message_size;
    b->on_message = opts->on_message;
    b->on_ready = opts->on_ready;
    b->data = opts->data;
    build_keys(b);
    b->cmd = redis_client_new(loop, url, "broker", on_cmd_state, b);
    make_waiters(b);
    uv_prepare_init(loop, &b->flush);
    b->flush.data = b;
    uv_timer_init(loop, &b->restore_timer);
    b->restore_timer.data = b;
    b->handles_open = 2;
    snprintf(b->mutex_token, sizeof(b->mutex_token), "posetrackd-%ld-%p",
             (long)getpid(), (void *)b);
    return &b->base;
}
