/* Unit tests for the session state machine: durations, resets, time going
 * backwards, completion and abandonment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "session.h"

static const session_hold_type route[] = {
    SESSION_HOLD_START, SESSION_HOLD_NORMAL, SESSION_HOLD_FINISH};

static void touch(session *s, double t, int a, int b, int c)
{
    unsigned char on[3] = {(unsigned char)a, (unsigned char)b,
                           (unsigned char)c};
    session_update(s, t, on);
}

static void a_hold_becomes_touched_after_the_duration(void **state)
{
    (void)state;
    session s;
    session_init(&s, route, 3, 2.0, 100.0);
    touch(&s, 101.0, 1, 0, 0);
    touch(&s, 102.5, 1, 0, 0);
    assert_false(s.holds[0].touched);
    touch(&s, 103.2, 1, 0, 0);
    assert_true(s.holds[0].touched);
    /* stamped at touch start + duration, not at the frame */
    assert_true(s.holds[0].touched_at == 103.0);
    assert_int_equal(s.status, SESSION_STARTED);
    session_free(&s);
}

static void a_frame_without_the_touch_resets_its_timer(void **state)
{
    (void)state;
    session s;
    session_init(&s, route, 3, 2.0, 0);
    touch(&s, 1.0, 0, 1, 0);
    touch(&s, 2.5, 0, 0, 0); /* let go */
    touch(&s, 2.75, 0, 1, 0);
    touch(&s, 4.0, 0, 1, 0);
    assert_false(s.holds[1].touched);
    touch(&s, 4.75, 0, 1, 0);
    assert_true(s.holds[1].touched);
    assert_true(s.holds[1].touched_at == 4.75);
    /* touched stays touched when the hand leaves */
    touch(&s, 5.0, 0, 0, 0);
    assert_true(s.holds[1].touched);
    session_free(&s);
}

static void time_going_backwards_resets_timers_not_statuses(void **state)
{
    (void)state;
    session s;
    session_init(&s, route, 3, 1.0, 0);
    touch(&s, 10.0, 1, 1, 0);
    touch(&s, 11.0, 1, 1, 0); /* both touched */
    touch(&s, 12.0, 0, 1, 0);
    touch(&s, 5.0, 1, 0, 0); /* back in time: new timers */
    assert_true(s.holds[0].touched && s.holds[1].touched);
    touch(&s, 5.5, 0, 0, 1);
    touch(&s, 6.0, 0, 0, 1);
    assert_false(s.holds[2].touched);
    touch(&s, 6.5, 0, 0, 1);
    assert_true(s.holds[2].touched);
    session_free(&s);
}

static void completed_when_every_finish_hold_is_touched(void **state)
{
    (void)state;
    session s;
    session_init(&s, route, 3, 1.0, 50.0);
    touch(&s, 51.0, 0, 0, 1);
    touch(&s, 52.25, 0, 0, 1);
    assert_int_equal(s.status, SESSION_COMPLETED);
    assert_true(s.end_time == 52.0);
    session_stop(&s, 60.0); /* stopping later keeps it completed */
    assert_int_equal(s.status, SESSION_COMPLETED);
    assert_string_equal(session_status_name(s.status), "completed");
    session_free(&s);
}

static void stopped_before_the_top_is_abandoned(void **state)
{
    (void)state;
    session s;
    session_init(&s, route, 3, 1.0, 0);
    touch(&s, 1.0, 1, 0, 0);
    session_stop(&s, 9.0);
    assert_int_equal(s.status, SESSION_ABANDONED);
    assert_true(s.end_time == 9.0);
    session_free(&s);
}

static void a_route_without_finish_holds_never_completes(void **state)
{
    (void)state;
    static const session_hold_type normal[] = {SESSION_HOLD_NORMAL};
    session s;
    session_init(&s, normal, 1, 0.5, 0);
    unsigned char on[1] = {1};
    session_update(&s, 1.0, on);
    session_update(&s, 2.0, on);
    assert_true(s.holds[0].touched);
    assert_int_equal(s.status, SESSION_STARTED);
    session_free(&s);
}

static void reset_starts_a_new_attempt(void **state)
{
    (void)state;
    session s;
    session_init(&s, route, 3, 1.0, 0);
    touch(&s, 1.0, 0, 0, 1);
    touch(&s, 2.0, 0, 0, 1);
    assert_int_equal(s.status, SESSION_COMPLETED);
    session_reset(&s, 30.0);
    assert_int_equal(s.status, SESSION_STARTED);
    assert_true(s.start_time == 30.0);
    assert_false(s.holds[2].touched);
    touch(&s, 31.0, 0, 0, 1);
    assert_false(s.holds[2].touched);
    session_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_hold_becomes_touched_after_the_duration),
        cmocka_unit_test(a_frame_without_the_touch_resets_its_timer),
        cmocka_unit_test(time_going_backwards_resets_timers_not_statuses),
        cmocka_unit_test(completed_when_every_finish_hold_is_touched),
        cmocka_unit_test(stopped_before_the_top_is_abandoned),
        cmocka_unit_test(a_route_without_finish_holds_never_completes),
        cmocka_unit_test(reset_starts_a_new_attempt),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
