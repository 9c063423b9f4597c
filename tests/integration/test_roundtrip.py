"""Round trips through the real Celery client: send_task / .get()."""
import json

from celery import states

from support import ResultPublishes, get_raises, send_echo_burst

VALUES = [
    [],
    [1, -2, 0],
    ["unicode: héllo wörld ✓ 日本語 🧗"],
    [2 ** 100, -(2 ** 70), 12345678901234567890],
    [1.5, -0.1, 1e-300, 6.02214076e23, 0.1 + 0.2],
    [None, True, False],
    [[1, [2, [3, [4]]]], {"a": {"b": {"c": [None, {"d": "e"}]}}}],
    ["", "quote\" backslash\\ newline\n tab\t nul\u0000 ctl\u0001"],
]


def test_echo_round_trips_every_json_type(ctx):
    w = ctx.worker()
    app = ctx.app()
    results = [app.send_task("posetrackd.echo", args=v, kwargs={"k": v})
               for v in VALUES]
    for v, r in zip(VALUES, results):
        assert r.get(timeout=10) == [v, {"k": v}], (v, r.result)
        assert r.state == states.SUCCESS
    assert w.alive()


def test_empty_args_and_kwargs(ctx):
    ctx.worker()
    app = ctx.app()
    assert app.send_task("posetrackd.echo").get(timeout=10) == [[], {}]


def test_v1_protocol_messages(ctx):
    ctx.worker()
    app = ctx.app(task_protocol=1)
    r = app.send_task("posetrackd.echo", args=[1, "two"], kwargs={"three": 3.0})
    assert r.get(timeout=10) == [[1, "two"], {"three": 3.0}]
    r = app.send_task("posetrackd.fail", args=["v1 failure"])
    e = get_raises(r, ValueError, 10)
    assert str(e) == "v1 failure"


def test_failure_raises_the_right_class_with_message(ctx):
    ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.fail", args=["boom ✓"])
    e = get_raises(r, ValueError, 10)
    assert str(e) == "boom ✓"
    assert r.state == states.FAILURE
    assert "ValueError" in r.traceback


def test_unknown_task_is_not_registered(ctx):
    from celery.exceptions import NotRegistered
    w = ctx.worker()
    app = ctx.app()
    r = app.send_task("no.such.task", args=[1])
    e = get_raises(r, NotRegistered, 10)
    assert "no.such.task" in repr(e)
    assert "Received unregistered task of type 'no.such.task'" in w.text()


def test_sleep_argument_errors_are_python_type_errors(ctx):
    ctx.worker()
    app = ctx.app()
    cases = [
        ([], {}, TypeError, "sleep() missing 1 required positional argument: 'seconds'"),
        ([1, 2], {}, TypeError, "sleep() takes 1 positional argument but 2 were given"),
        ([], {"secs": 1}, TypeError, "sleep() got an unexpected keyword argument 'secs'"),
        ([1], {"seconds": 1}, TypeError, "sleep() got multiple values for argument 'seconds'"),
        (["x"], {}, TypeError, None),
        ([-1], {}, ValueError, None),
    ]
    for args, kwargs, exc, msg in cases:
        r = app.send_task("posetrackd.sleep", args=args, kwargs=kwargs)
        e = get_raises(r, exc, 10)
        if msg:
            assert str(e) == msg, str(e)


def test_ten_thousand_tasks_each_result_exactly_once(ctx):
    ctx.worker()
    app = ctx.app()
    publishes = ResultPublishes(ctx.r)
    n = 10000
    ids = send_echo_burst(app, n)
    seen = publishes.wait(n)
    assert len(seen) == n, len(seen)
    assert all(c == 1 for c in seen.values())
    for i, tid in enumerate(ids):
        meta = json.loads(ctx.r.get(f"celery-task-meta-{tid}"))
        assert meta["status"] == "SUCCESS" and meta["result"] == [[i], {}]
    assert ctx.r.hlen("unacked") == 0
    assert ctx.r.zcard("unacked_index") == 0


def test_result_meta_shape_matches_celery(ctx):
    ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.echo", args=[1])
    r.get(timeout=10)
    meta = json.loads(ctx.r.get(f"celery-task-meta-{r.id}"))
    assert list(meta) == ["status", "result", "traceback", "children",
                          "date_done", "task_id"]
    assert ctx.r.ttl(f"celery-task-meta-{r.id}") > 86000
    import datetime
    datetime.datetime.fromisoformat(meta["date_done"])
