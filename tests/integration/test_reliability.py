"""Nothing is lost and nothing runs twice: acks-late redelivery after a
crash, long tasks outliving the visibility timeout, a mixed fleet with the
Python worker, warm and cold shutdown with prefetched messages."""
import json
import re
import signal
import time

from support import ResultPublishes, get_raises, send_echo_burst, wait_for


def received(worker_text, tid):
    return len(re.findall(re.escape(f"[{tid}] received"), worker_text))


def test_acks_late_task_runs_again_after_kill_9(ctx):
    w1 = ctx.worker("--acks-late", "--visibility-timeout", "2")
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[1.5])
    wait_for(lambda: received(w1.text(), r.id) == 1, 10, what="first delivery")
    w1.kill()
    assert ctx.r.hlen("unacked") == 1, "the message must still be unacked"
    w2 = ctx.worker("--acks-late", "--visibility-timeout", "2")
    assert r.get(timeout=30) == 1.5
    assert received(w2.text(), r.id) == 1
    time.sleep(0.3)
    assert ctx.r.hlen("unacked") == 0
    assert ctx.r.llen("celery") == 0


def test_long_acks_late_task_is_not_redelivered_while_its_worker_lives(ctx):
    # Two workers on one queue: a restore by either would show as a second
    # delivery of the same id.
    w1 = ctx.worker("--acks-late", "--visibility-timeout", "1", "-c", "1")
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[4])
    wait_for(lambda: received(w1.text(), r.id) == 1, 10)
    w2 = ctx.worker("--acks-late", "--visibility-timeout", "1")
    assert r.get(timeout=30) == 4
    time.sleep(1.5)
    assert received(w1.text(), r.id) + received(w2.text(), r.id) == 1
    assert ctx.r.hlen("unacked") == 0


def test_early_ack_removes_the_message_when_the_task_starts(ctx):
    ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[1])
    wait_for(lambda: ctx.r.hlen("unacked") == 0 and ctx.r.llen("celery") == 0, 5)
    assert r.get(timeout=10) == 1


def test_mixed_fleet_with_the_python_worker(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "2")
    pt = ctx.worker()
    app = ctx.app()
    publishes = ResultPublishes(ctx.r)
    n = 2000
    ids = send_echo_burst(app, n)
    seen = publishes.wait(n)
    assert len(seen) == n
    assert all(v == 1 for v in seen.values())
    for i, tid in enumerate(ids):
        assert json.loads(ctx.r.get(f"celery-task-meta-{tid}"))["result"] == [[i], {}]
    by_pt = len(re.findall(r"posetrackd\.echo\[[^\]]+\] received", pt.text()))
    by_py = len(re.findall(r"Task posetrackd\.echo\[[^\]]+\] received", py.text()))
    assert by_pt + by_py == n and by_pt > 0 and by_py > 0, (by_pt, by_py)
    wait_for(lambda: ctx.r.hlen("unacked") == 0, 10, what="unacked drained")


def test_warm_shutdown_loses_no_queued_or_prefetched_message(ctx):
    w = ctx.worker("-c", "4", "--prefetch-multiplier", "4")
    app = ctx.app()
    results = [app.send_task("posetrackd.sleep", args=[0.3]) for _ in range(60)]
    wait_for(lambda: w.text().count("received") >= 16, 10, what="prefetch")
    assert w.stop(signal.SIGTERM) == 0
    text = w.text()
    assert "returned" in text and "unstarted message(s)" in text
    w2 = ctx.worker("-c", "20")
    for r in results:
        assert r.get(timeout=30) == 0.3
    wait_for(lambda: ctx.r.hlen("unacked") == 0, 10)
    assert ctx.r.llen("celery") == 0


def test_shutdown_under_load_hands_back_in_flight_batches(ctx):
    app = ctx.app()
    n = 5000
    ids = send_echo_burst(app, n)
    w = ctx.worker("-c", "4", "--prefetch-multiplier", "64")
    assert w.stop(signal.SIGTERM) == 0
    # Nothing may be left in unacked: every message is done or queued.
    assert ctx.r.hlen("unacked") == 0 and ctx.r.zcard("unacked_index") == 0
    done = sum(1 for t in ids if ctx.r.exists(f"celery-task-meta-{t}"))
    assert done + ctx.r.llen("celery") == n, (done, ctx.r.llen("celery"))
    ctx.worker()
    for i, tid in enumerate(ids):
        meta = wait_for(lambda: ctx.r.get(f"celery-task-meta-{tid}"), 30)
        assert json.loads(meta)["result"] == [[i], {}]


def test_warm_shutdown_stops_long_tasks_after_the_grace_period(ctx):
    from billiard.exceptions import WorkerLostError
    w = ctx.worker("--shutdown-timeout", "0.5")
    app = ctx.app()
    early = app.send_task("posetrackd.sleep", args=[60])
    wait_for(lambda: "received" in w.text(), 10)
    t0 = time.monotonic()
    assert w.stop(signal.SIGTERM) == 0
    assert time.monotonic() - t0 < 10
    get_raises(early, WorkerLostError, 10)


def test_cold_shutdown_hands_back_acks_late_work(ctx):
    w = ctx.worker("--acks-late", "-c", "1")
    app = ctx.app()
    running = app.send_task("posetrackd.sleep", args=[60])
    queued = app.send_task("posetrackd.echo", args=["queued"])
    wait_for(lambda: "received" in w.text() and ctx.r.llen("celery") == 0, 10)
    assert w.stop(signal.SIGQUIT) == 0
    assert ctx.r.hlen("unacked") == 0
    assert ctx.r.llen("celery") == 2
    raw = [json.loads(m) for m in ctx.r.lrange("celery", 0, -1)]
    assert all(m["headers"].get("redelivered") for m in raw)
    w2 = ctx.worker("--shutdown-timeout", "0.2")
    assert queued.get(timeout=10) == [["queued"], {}]
    assert running.id in w2.text()
