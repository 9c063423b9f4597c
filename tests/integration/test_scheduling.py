"""eta / countdown, expires, time limits, ignore_result, track-started and
result-extended, as a Celery client sees them."""
import datetime
import json
import time

from celery import states
from celery.exceptions import TaskRevokedError, TimeLimitExceeded

from support import get_raises, wait_for


def test_countdown_is_held_without_blocking_others(ctx):
    ctx.worker("-c", "1")
    app = ctx.app()
    t0 = time.monotonic()
    later = app.send_task("posetrackd.echo", args=["later"], countdown=1.5)
    now = app.send_task("posetrackd.echo", args=["now"])
    assert now.get(timeout=10) == [["now"], {}]
    assert time.monotonic() - t0 < 1.0, "a countdown task blocked the slot"
    assert later.state == states.PENDING
    assert later.get(timeout=10) == [["later"], {}]
    assert time.monotonic() - t0 >= 1.4


def test_eta_in_the_past_runs_at_once(ctx):
    ctx.worker()
    app = ctx.app()
    eta = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    assert app.send_task("posetrackd.echo", args=[1], eta=eta).get(timeout=10) == [[1], {}]


def test_expired_task_is_revoked_not_run(ctx):
    w = ctx.worker()
    app = ctx.app()
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    r = app.send_task("posetrackd.echo", args=[1], expires=past)
    get_raises(r, TaskRevokedError, 10)
    assert r.state == states.REVOKED
    meta = json.loads(ctx.r.get(f"celery-task-meta-{r.id}"))
    assert meta["result"] == {"exc_type": "TaskRevokedError",
                              "exc_message": ["expired"],
                              "exc_module": "celery.exceptions"}
    assert "succeeded" not in w.text()


def test_expires_while_waiting_for_eta(ctx):
    ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.echo", args=[1], countdown=1.0, expires=0.5)
    get_raises(r, TaskRevokedError, 10)


def test_hard_time_limit_from_the_message(ctx):
    ctx.worker()
    app = ctx.app()
    t0 = time.monotonic()
    r = app.send_task("posetrackd.sleep", args=[30], time_limit=0.5)
    get_raises(r, TimeLimitExceeded, 10)
    assert time.monotonic() - t0 < 5
    meta = json.loads(ctx.r.get(f"celery-task-meta-{r.id}"))
    assert meta["result"]["exc_type"] == "TimeLimitExceeded"
    assert meta["result"]["exc_module"] == "billiard.exceptions"
    assert meta["result"]["exc_message"] == [0.5]
    # The slot is free again.
    assert app.send_task("posetrackd.echo").get(timeout=10) == [[], {}]


def test_soft_time_limit_is_delivered_to_the_task(ctx):
    from billiard.exceptions import SoftTimeLimitExceeded
    ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[30], soft_time_limit=0.3,
                      time_limit=5)
    get_raises(r, SoftTimeLimitExceeded, 10)


def test_time_limit_flag_applies_to_every_task(ctx):
    w = ctx.worker("--time-limit", "0.4")
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[10])
    get_raises(r, TimeLimitExceeded, 10)
    assert "Hard time limit (0.4s) exceeded for posetrackd.sleep" in w.text()


def test_ignore_result_stores_nothing(ctx):
    ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.echo", args=[1], ignore_result=True)
    marker = app.send_task("posetrackd.echo", args=[2])
    marker.get(timeout=10)
    time.sleep(0.2)
    assert ctx.r.get(f"celery-task-meta-{r.id}") is None


def test_track_started_stores_pid_and_hostname(ctx):
    w = ctx.worker("--track-started")
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[1])
    meta = wait_for(lambda: ctx.r.get(f"celery-task-meta-{r.id}"), 5)
    meta = json.loads(meta)
    assert meta["status"] == "STARTED"
    assert meta["result"]["pid"] == w.proc.pid
    assert meta["result"]["hostname"].startswith("pt")
    assert r.state == states.STARTED
    assert r.get(timeout=10) == 1


def test_result_extended_fields(ctx):
    w = ctx.worker("--result-extended")
    app = ctx.app(result_extended=True)
    r = app.send_task("posetrackd.echo", args=[1, "a"], kwargs={"b": 2})
    assert r.get(timeout=10) == [[1, "a"], {"b": 2}]
    meta = json.loads(ctx.r.get(f"celery-task-meta-{r.id}"))
    assert meta["name"] == "posetrackd.echo"
    assert meta["args"] == [1, "a"] and meta["kwargs"] == {"b": 2}
    assert meta["queue"] == "celery"
    assert meta["retries"] == 0
    assert meta["worker"] == w.name.replace("%h", meta["worker"].split("@")[1])
    assert r.name == "posetrackd.echo"
    assert r.args == [1, "a"]


def test_result_expires_flag_sets_the_ttl(ctx):
    ctx.worker("--result-expires", "120")
    app = ctx.app()
    r = app.send_task("posetrackd.echo")
    r.get(timeout=10)
    ttl = ctx.r.ttl(f"celery-task-meta-{r.id}")
    assert 100 < ttl <= 120


def test_priority_sub_queues_are_served_highest_first(ctx):
    app = ctx.app(broker_transport_options={"priority_steps": [0, 3, 6, 9]})
    ids = []
    for pri in (9, 6, 3, 0):
        ids.append((pri, app.send_task("posetrackd.echo", args=[pri],
                                       priority=pri).id))
    assert ctx.r.llen("celery\x06\x169") == 1
    w = ctx.worker("-c", "1", "--prefetch-multiplier", "1")
    for _, tid in ids:
        wait_for(lambda: ctx.r.get(f"celery-task-meta-{tid}"), 10)
    import re
    order = re.findall(r"Task posetrackd\.echo\[([^\]]+)\] received", w.text())
    by_id = dict((tid, pri) for pri, tid in ids)
    assert [by_id[t] for t in order] == [0, 3, 6, 9]
