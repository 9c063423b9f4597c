/* Unit tests for remote control requests and replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "pidbox.h"

static char *envelope(const char *body)
{
    buf b64, env;
    buf_init(&b64);
    buf_init(&env);
    base64_encode(&b64, body, strlen(body));
    buf_printf(&env,
               "{\"body\": \"%s\", \"content-encoding\": \"utf-8\", "
               "\"content-type\": \"application/json\", \"headers\": "
               "{\"clock\": 1}, \"properties\": {\"body_encoding\": "
               "\"base64\", \"delivery_tag\": \"t\"}}",
               b64.data);
    buf_free(&b64);
    return buf_detach(&env, NULL);
}

static int decode(const char *body, pidbox_request *r)
{
    char *env = envelope(body);
    buf err;
    buf_init(&err);
    int rc = pidbox_request_decode(env, strlen(env), r, &err);
    if (rc)
        assert_non_null(err.data);
    buf_free(&err);
    free(env);
    return rc;
}

static void decodes_requests_and_destinations(void **state)
{
    (void)state;
    pidbox_request r;
    assert_int_equal(
        decode("{\"method\": \"revoke\", \"arguments\": {\"task_id\": \"x\"}, "
               "\"destination\": [\"a@h\", \"b@h\"], \"pattern\": null, "
               "\"matcher\": null, \"ticket\": \"tk\", \"reply_to\": "
               "{\"exchange\": \"reply.celery.pidbox\", \"routing_key\": "
               "\"oid\"}}",
               &r),
        0);
    assert_string_equal(r.method, "revoke");
    assert_string_equal(r.ticket, "tk");
    assert_string_equal(r.reply_routing_key, "oid");
    assert_true(pidbox_request_is_for(&r, "b@h"));
    assert_false(pidbox_request_is_for(&r, "c@h"));
    pidbox_request_free(&r);
    assert_int_equal(decode("{\"method\": \"ping\", \"pattern\": \"w*@h\", "
                            "\"matcher\": \"glob\"}",
                            &r),
                     0);
    assert_true(pidbox_request_is_for(&r, "w1@h"));
    assert_false(pidbox_request_is_for(&r, "x@h"));
    assert_null(r.ticket);
    pidbox_request_free(&r);
    assert_int_equal(decode("{\"method\": \"ping\"}", &r), 0);
    assert_true(pidbox_request_is_for(&r, "anyone"));
    pidbox_request_free(&r);
}

static void rejects_malformed_requests(void **state)
{
    (void)state;
    pidbox_request r;
    const char *bad[] = {"[]",
                         "{}",
                         "{\"method\": 5}",
                         "{\"method\": \"x\", \"arguments\": [1]}",
                         "{\"method\": \"x\", \"destination\": \"a\"}",
                         "not json"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode(bad[i], &r), -1);
    buf err;
    buf_init(&err);
    assert_int_equal(pidbox_request_decode("{", 1, &r, &err), -1);
    buf_free(&err);
}

static void encodes_replies_as_kombu_envelopes(void **state)
{
    (void)state;
    pidbox_request r;
    assert_int_equal(decode("{\"method\": \"ping\", \"ticket\": \"tk\", "
                            "\"reply_to\": {\"exchange\": \"rx\", "
                            "\"routing_key\": \"rk\"}}",
                            &r),
                     0);
    json_t *reply = json_pack("{s:s}", "ok", "pong");
    buf out;
    buf_init(&out);
    pidbox_reply_encode(&out, "w@h", reply, &r, "tag1");
    json_t *env = json_loads(out.data, 0, NULL);
    assert_non_null(env);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(env, "headers"), "ticket")),
                        "tk");
    const char *b = json_string_value(json_object_get(env, "body"));
    buf body;
    buf_init(&body);
    assert_int_equal(base64_decode(&body, b, strlen(b)), 0);
    assert_string_equal(body.data, "{\"w@h\":{\"ok\":\"pong\"}}");
    buf_free(&body);
    buf_free(&out);
    json_decref(env);
    json_decref(reply);
    pidbox_request_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_requests_and_destinations),
        cmocka_unit_test(rejects_malformed_requests),
        cmocka_unit_test(encodes_replies_as_kombu_envelopes),
    };
    return cmocka_run_group_tests_name("pidbox", tests, NULL, NULL);
}
