/* Unit tests for Celery message decoding, result documents and Python
 * argument binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "celery_msg.h"
#include "pyargs.h"
#include "result_meta.h"

/* A kombu envelope around body, with the given headers object text. */
static char *make_envelope(const char *body, const char *headers,
                           const char *content_type)
{
    buf b64, env;
    buf_init(&b64);
    buf_init(&env);
    base64_encode(&b64, body, strlen(body));
    buf_printf(&env,
               "{\"body\": \"%s\", \"content-encoding\": \"utf-8\", "
               "\"content-type\": \"%s\", \"headers\": %s, \"properties\": "
               "{\"correlation_id\": \"c1\", \"reply_to\": \"r1\", "
               "\"delivery_mode\": 2, \"delivery_info\": {\"exchange\": \"\", "
               "\"routing_key\": \"celery\"}, \"priority\": 3, "
               "\"body_encoding\": \"base64\", \"delivery_tag\": \"t1\"}}",
               b64.data ? b64.data : "", content_type, headers);
    buf_free(&b64);
    return buf_detach(&env, NULL);
}

static celery_msg_status decode(const char *body, const char *headers,
                                const char *ct, celery_msg *m, buf *err)
{
    char *env = make_envelope(body, headers, ct);
    celery_msg_status st = celery_msg_decode(env, strlen(env), m, err);
    free(env);
    return st;
}

static const char *v2_headers =
    "{\"lang\": \"py\", \"task\": \"posetrackd.echo\", \"id\": \"abc\", "
    "\"eta\": \"2026-12-03T10:00:00+00:00\", \"expires\": null, "
    "\"retries\": 2, \"timelimit\": [10, 5.5], \"root_id\": \"root\", "
    "\"parent_id\": null, \"group\": \"g\", \"ignore_result\": true, "
    "\"argsrepr\": \"(1,)\", \"kwargsrepr\": \"{}\", \"origin\": \"o\"}";

static void decodes_v2_messages(void **state)
{
    (void)state;
    celery_msg m;
    buf err;
    buf_init(&err);
    const char *body =
        "[[1, 123456789012345678901234567890], {\"k\": \"\\u00e9\"}, "
        "{\"callbacks\": null}]";
    assert_int_equal(decode(body, v2_headers, "application/json", &m, &err),
                     CELERY_MSG_OK);
    assert_int_equal(m.protocol, 2);
    assert_string_equal(m.id, "abc");
    assert_string_equal(m.task, "posetrackd.echo");
    assert_true(m.has_eta && m.eta == 1796292000.0);
    assert_false(m.has_expires);
    assert_int_equal(m.retries, 2);
    assert_true(m.time_limit == 10 && m.soft_time_limit == 5.5);
    assert_string_equal(m.root_id, "root");
    assert_null(m.parent_id);
    assert_string_equal(m.group, "g");
    assert_true(m.ignore_result);
    assert_string_equal(m.delivery_tag, "t1");
    assert_string_equal(m.routing_key, "celery");
    assert_string_equal(m.exchange, "");
    assert_string_equal(m.reply_to, "r1");
    assert_int_equal(m.priority, 3);
    const char *args = "[1, 123456789012345678901234567890]";
    assert_int_equal(m.args.len, strlen(args));
    assert_memory_equal(m.args.p, args, m.args.len);
    assert_memory_equal(m.kwargs.p, "{\"k\": \"\\u00e9\"}", m.kwargs.len);
    celery_msg_free(&m);
    buf_free(&err);
}

static void decodes_v1_messages(void **state)
{
    (void)state;
    celery_msg m;
    buf err;
    buf_init(&err);
    const char *body = "{\"task\": \"posetrackd.echo\", \"id\": \"v1\", "
                       "\"args\": [1], \"kwargs\": {}, \"retries\": 0, "
                       "\"eta\": null, \"expires\": \"2030-01-01T00:00:00\"}";
    assert_int_equal(decode(body, "{}", "application/json", &m, &err),
                     CELERY_MSG_OK);
    assert_int_equal(m.protocol, 1);
    assert_string_equal(m.id, "v1");
    assert_true(m.has_expires);
    assert_memory_equal(m.args.p, "[1]", 3);
    celery_msg_free(&m);
    buf_free(&err);
}

typedef struct bad_case {
    const char *body;
    const char *headers;
    const char *ct;
    celery_msg_status want;
    int has_id;
} bad_case;

static void classifies_bad_messages(void **state)
{
    (void)state;
    const char *h = "{\"task\": \"t\", \"id\": \"x\"}";
    const bad_case cases[] = {
        {"[[], {}, {}]", h, "application/x-python-serialize",
         CELERY_MSG_DISALLOWED, 1},
        {"[[], {}, {}]", h, "application/x-yaml", CELERY_MSG_DISALLOWED, 1},
        {"not json", h, "application/json", CELERY_MSG_DECODE_ERROR, 1},
        {"\xff[]", h, "application/json", CELERY_MSG_DECODE_ERROR, 1},
        {"{}", h, "application/json", CELERY_MSG_INVALID, 1},
        {"[{}, {}, {}]", h, "application/json", CELERY_MSG_INVALID, 1},
        {"[[], [], {}]", h, "application/json", CELERY_MSG_INVALID, 1},
        {"[[], {}, 5]", h, "application/json", CELERY_MSG_INVALID, 1},
        {"[[], {}]", h, "application/json", CELERY_MSG_INVALID, 1},
        {"[[], {}, {}]", "{\"task\": \"t\"}", "application/json",
         CELERY_MSG_INVALID, 0},
        {"[[], {}, {}]", "{\"task\": \"t\", \"id\": 5}", "application/json",
         CELERY_MSG_INVALID, 0},
        {"[[], {}, {}]", "{\"id\": \"x\"}", "application/json",
         CELERY_MSG_INVALID, 1},
        {"[[], {}, {}]", "{\"task\": \"t\", \"id\": \"x\", \"eta\": 5}",
         "application/json", CELERY_MSG_INVALID, 1},
        {"[1, 2, 3]", "{}", "application/json", CELERY_MSG_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        celery_msg m;
        buf err;
        buf_init(&err);
        celery_msg_status st =
            decode(cases[i].body, cases[i].headers, cases[i].ct, &m, &err);
        if (st != cases[i].want)
            fail_msg("case %zu: status %d, want %d (%s)", i, st, cases[i].want,
                     err.data ? err.data : "");
        assert_int_equal(m.id != NULL, cases[i].has_id);
        assert_non_null(err.data);
        celery_msg_free(&m);
        buf_free(&err);
    }
    const char *envs[] = {"", "{", "[]", "nope", "{\"body\": 1}"};
    for (size_t i = 0; i < 5; i++) {
        celery_msg m;
        buf err;
        buf_init(&err);
        celery_msg_status st =
            celery_msg_decode(envs[i], strlen(envs[i]), &m, &err);
        assert_true(st != CELERY_MSG_OK);
        celery_msg_free(&m);
        buf_free(&err);
    }
}

static void encodes_result_meta_in_celery_order(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    result_meta m = {0};
    m.task_id = "id1";
    m.status = "SUCCESS";
    m.result = (json_span){"[1]", 3};
    m.ready = 1;
    m.date_done = 1796292000.5;
    result_meta_encode(&b, &m);
    assert_string_equal(
        b.data, "{\"status\": \"SUCCESS\", \"result\": [1], "
                "\"traceback\": null, \"children\": [], \"date_done\": "
                "\"2026-12-03T10:00:00.500000\", \"task_id\": \"id1\"}");
    buf_reset(&b);
    m.status = "STARTED";
    m.ready = 0;
    m.result = (json_span){0};
    m.extended = 1;
    m.name = "n";
    m.args = (json_span){"[]", 2};
    m.kwargs = (json_span){"{}", 2};
    m.worker = "w@h";
    m.queue = "celery";
    result_meta_encode(&b, &m);
    assert_string_equal(
        b.data, "{\"status\": \"STARTED\", \"result\": null, \"traceback\": "
                "null, \"children\": [], \"date_done\": null, \"name\": \"n\", "
                "\"args\": [], \"kwargs\": {}, \"worker\": \"w@h\", "
                "\"retries\": 0, \"queue\": \"celery\", \"task_id\": \"id1\"}");
    buf_reset(&b);
    result_meta_exception(&b, "ValueError", "builtins", "bad \"x\"");
    assert_string_equal(b.data, "{\"exc_type\": \"ValueError\", "
                                "\"exc_message\": [\"bad \\\"x\\\"\"], "
                                "\"exc_module\": \"builtins\"}");
    buf_free(&b);
}

static int bind(const char *args, const char *kwargs, json_span *out, buf *err)
{
    static const pyargs_param params[] = {{"a", 1}, {"b", 0}, {"c", 0}};
    json_span a = {args, strlen(args)}, k = {kwargs, strlen(kwargs)};
    return pyargs_bind("f", params, 3, a, k, out, err);
}

static void binds_arguments_like_python(void **state)
{
    (void)state;
    json_span out[3];
    buf err;
    buf_init(&err);
    assert_int_equal(bind("[1, 2]", "{\"c\": 3}", out, &err), 0);
    assert_memory_equal(out[0].p, "1", 1);
    assert_memory_equal(out[1].p, "2", 1);
    assert_memory_equal(out[2].p, "3", 1);
    assert_int_equal(bind("[]", "{\"a\": 1}", out, &err), 0);
    assert_int_equal(out[1].len, 0);
    struct {
        const char *args, *kwargs, *msg;
    } bad[] = {
        {"[1, 2, 3, 4]", "{}",
         "f() takes from 1 to 3 positional arguments but 4 were given"},
        {"[]", "{}", "f() missing 1 required positional argument: 'a'"},
        {"[1]", "{\"d\": 1}", "f() got an unexpected keyword argument 'd'"},
        {"[1]", "{\"a\": 1}", "f() got multiple values for argument 'a'"},
    };
    for (size_t i = 0; i < 4; i++) {
        buf_reset(&err);
        assert_int_equal(bind(bad[i].args, bad[i].kwargs, out, &err), -1);
        assert_string_equal(err.data, bad[i].msg);
    }
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_v2_messages),
        cmocka_unit_test(decodes_v1_messages),
        cmocka_unit_test(classifies_bad_messages),
        cmocka_unit_test(encodes_result_meta_in_celery_order),
        cmocka_unit_test(binds_arguments_like_python),
    };
    return cmocka_run_group_tests_name("messages", tests, NULL, NULL);
}
