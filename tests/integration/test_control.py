"""Remote control over the Redis pidbox, with the real celery CLI and
client: ping, registered, active, revoke (before start and with
terminate), destinations, garbage on the control channel."""
import json
import os
import socket
import subprocess
import time

import support
from celery.exceptions import TaskRevokedError
from support import PYTHON, get_raises, wait_for


def cli(ctx, *args):
    p = subprocess.run([PYTHON, "-m", "celery", "-b", ctx.broker, *args],
                       capture_output=True, text=True, timeout=60,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    return p.returncode, p.stdout + p.stderr


def node(w):
    return w.name.replace("%h", socket.gethostname())


def test_cli_inspect_ping_registered_active_and_status(ctx):
    w = ctx.worker()
    rc, out = cli(ctx, "inspect", "ping")
    assert rc == 0 and f"{node(w)}: OK" in out and "pong" in out, out
    rc, out = cli(ctx, "inspect", "registered")
    assert rc == 0 and "* posetrackd.echo" in out and "* posetrackd.sleep" in out
    rc, out = cli(ctx, "status")
    assert rc == 0 and "1 node online" in out, out
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[5], kwargs={})
    wait_for(lambda: "received" in w.text(), 10)
    active = app.control.inspect(destination=[node(w)]).active()
    info = active[node(w)][0]
    assert info["id"] == r.id and info["args"] == [5] and info["kwargs"] == {}
    assert info["acknowledged"] is True and info["worker_pid"] == w.proc.pid
    assert info["delivery_info"]["routing_key"] == "celery"
    app.control.revoke(r.id, terminate=True)
    get_raises(r, TaskRevokedError)


def test_active_has_the_same_keys_as_the_python_worker(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "1", "-Q", "pyq")
    pt = ctx.worker("-Q", "ptq")
    app = ctx.app()
    a = app.send_task("posetrackd.sleep", args=[3], queue="pyq")
    b = app.send_task("posetrackd.sleep", args=[3], queue="ptq")
    def both():
        act = app.control.inspect().active() or {}
        if act.get(node(py)) and act.get(node(pt)):
            return act
    act = wait_for(both, 20, interval=0.2)
    pyinfo, ptinfo = act[node(py)][0], act[node(pt)][0]
    assert sorted(pyinfo) == sorted(ptinfo)
    for k in pyinfo:
        assert type(pyinfo[k]) == type(ptinfo[k]), (k, pyinfo[k], ptinfo[k])
    assert sorted(pyinfo["delivery_info"]) == sorted(ptinfo["delivery_info"])
    a.get(timeout=20)
    b.get(timeout=20)


def test_revoke_before_start_is_never_run(ctx):
    w = ctx.worker()
    app = ctx.app()
    r = app.send_task("posetrackd.echo", args=[1], countdown=1)
    wait_for(lambda: "received" in w.text(), 10)
    app.control.revoke(r.id)
    e = get_raises(r, TaskRevokedError)
    assert "revoked" in str(e)
    # A revoked id that arrives later is not run either.
    later_id = "revoked-in-advance"
    app.control.revoke(later_id)
    time.sleep(0.2)
    r2 = app.send_task("posetrackd.echo", args=[2], task_id=later_id)
    get_raises(r2, TaskRevokedError)
    assert "succeeded" not in w.text()


def test_revoke_terminate_latency_and_the_slot_is_freed(ctx):
    ctx.worker("-c", "1")
    app = ctx.app()
    sub = ctx.r.pubsub()
    latencies = []
    for _ in range(100):
        r = app.send_task("posetrackd.sleep", args=[60])
        sub.subscribe(f"celery-task-meta-{r.id}")
        wait_for(lambda: ctx.r.hlen("unacked") == 0 and ctx.r.llen("celery") == 0,
                 10, interval=0.002)
        time.sleep(0.005)
        t0 = time.monotonic()
        app.control.revoke(r.id, terminate=True)
        while True:
            m = sub.get_message(timeout=5)
            assert m is not None, "no REVOKED published"
            if m["type"] == "message":
                assert json.loads(m["data"])["status"] == "REVOKED"
                break
        latencies.append(time.monotonic() - t0)
        sub.unsubscribe()
    latencies.sort()
    p99 = latencies[98]
    assert p99 < 0.1, f"p99 {p99 * 1000:.1f} ms"
    assert app.send_task("posetrackd.echo", args=["free"]).get(timeout=10) == [["free"], {}]


def test_destination_reaches_only_that_worker(ctx):
    a = ctx.worker()
    b = ctx.worker()
    py = ctx.pyworker()
    app = ctx.app()
    for target in (a, b, py):
        replies = app.control.ping(destination=[node(target)], timeout=1)
        assert [list(r)[0] for r in replies] == [node(target)], replies
    replies = app.control.ping(timeout=1)
    assert sorted(list(r)[0] for r in replies) == sorted(node(x) for x in (a, b, py))
    # Only the addressed worker acts.
    app.control.revoke("only-for-b", destination=[node(b)])
    time.sleep(0.3)
    for target in (a, b, py):
        revoked = app.control.inspect(destination=[node(target)]).revoked()[node(target)]
        assert ("only-for-b" in revoked) == (target is b), (node(target), revoked)
    # pattern + matcher (kombu's glob and pcre matchers).
    prefix = node(a).split("@")[0]
    replies = app.control.broadcast("ping", pattern=prefix + "@*", matcher="glob",
                                    reply=True, timeout=1)
    assert [list(r)[0] for r in replies] == [node(a)], replies
    replies = app.control.broadcast("ping", pattern="^" + prefix + "@", matcher="pcre",
                                    reply=True, timeout=1)
    assert [list(r)[0] for r in replies] == [node(a)], replies


def test_garbage_on_the_control_channel_leaves_the_worker_answering(ctx):
    w = ctx.worker()
    chan = "/0.celery.pidbox"
    for junk in (b"not json", b"[]", b"{}", json.dumps({"body": 5}).encode(),
                 json.dumps({"body": "!!", "content-type": "application/json",
                             "properties": {"body_encoding": "base64"}}).encode(),
                 b"{" * 100000, b"x" * (2 << 20)):
        ctx.r.publish(chan, junk)
    app = ctx.app()
    assert app.control.ping(destination=[node(w)], timeout=2)
    assert "malformed control message" in w.text()
    reply = app.control.broadcast("no_such_thing", destination=[node(w)],
                                  reply=True, timeout=1)
    # Celery's own answer to an unknown command: the repr of the KeyError.
    assert reply == [{node(w): {"error": "KeyError('no_such_thing')"}}]


def shape(v):
    """The JSON shape of a value: keys and types, not values."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x) for x in v[:1]]
    return type(v).__name__


def test_reserved_scheduled_revoked_query_task_match_the_python_worker(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "1", "-Q", "pyq")
    pt = ctx.worker("-c", "1", "-Q", "ptq")
    app = ctx.app()
    held = {}
    for w, q in ((py, "pyq"), (pt, "ptq")):
        held[q] = [app.send_task("posetrackd.sleep", args=[3], queue=q),
                   app.send_task("posetrackd.echo", args=[1], queue=q),
                   app.send_task("posetrackd.echo", args=[2], queue=q, countdown=30)]
        app.control.revoke(f"gone-{q}", destination=[node(w)])

    def inspect(w, method, *args):
        i = app.control.inspect(destination=[node(w)], timeout=1)
        return getattr(i, method)(*args)[node(w)]

    wait_for(lambda: inspect(py, "reserved") and inspect(py, "scheduled"), 20,
             interval=0.3)
    wait_for(lambda: inspect(pt, "reserved") and inspect(pt, "scheduled"), 20,
             interval=0.3)
    for method in ("reserved", "scheduled"):
        a, b = inspect(py, method), inspect(pt, method)
        assert shape(a) == shape(b), (method, a, b)
    assert inspect(py, "revoked") == ["gone-pyq"]
    assert inspect(pt, "revoked") == ["gone-ptq"]
    qa = inspect(py, "query_task", held["pyq"][0].id)
    qb = inspect(pt, "query_task", held["ptq"][0].id)
    assert list(qa.values())[0][0] == list(qb.values())[0][0] == "active"
    sa, sb = shape(list(qa.values())[0][1]), shape(list(qb.values())[0][1])
    assert sa == sb, (sa, sb)
    for q in ("pyq", "ptq"):
        app.control.revoke(held[q][2].id)
        held[q][0].get(timeout=20)
        held[q][1].get(timeout=20)


def test_revoke_with_kill_stops_at_once(ctx):
    w = ctx.worker("-c", "1")
    app = ctx.app()
    r = app.send_task("posetrackd.sleep", args=[60])
    wait_for(lambda: "received" in w.text(), 10)
    time.sleep(0.1)
    reply = app.control.revoke(r.id, terminate=True, signal="SIGKILL", reply=True,
                               destination=[node(w)])
    assert reply == [{node(w): {"ok": f"terminate: {r.id}"}}]
    e = get_raises(r, TaskRevokedError)
    assert "terminated" in str(e)
    assert "Terminating %s (SIGKILL)" % r.id in w.text()
    assert app.send_task("posetrackd.echo", args=[1]).get(timeout=10) == [[1], {}]


def test_task_rejected_event_for_a_malformed_message(ctx):
    from test_events import Capture
    from test_malformed import envelope, v2_headers
    app = ctx.app()
    cap = Capture(app)
    try:
        w = ctx.worker("-E")
        h = v2_headers()
        ctx.r.lpush("celery", envelope(b"not json", h))
        wait_for(lambda: cap.of("task-rejected", node(w)), 10)
        ev = cap.of("task-rejected", node(w))[0]
        assert ev["uuid"] == h["id"] and ev["requeue"] is False
    finally:
        cap.close()
