"""Differential: every inspect and control command, sent with the real
celery CLI to a Python Celery worker and to posetrackd; the replies must
have the same keys and types (values differ: pids, hosts, times)."""
import json
import os
import socket
import subprocess
import time

from support import PYTHON, wait_for


def cli_json(ctx, *args):
    p = subprocess.run([PYTHON, "-m", "celery", "-b", ctx.broker, *args, "-j",
                        "-t", "2"], capture_output=True, text=True, timeout=60,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    out = p.stdout.strip()
    assert out, (args, p.stderr)
    data = json.loads(out.splitlines()[-1])
    # inspect prints {node: reply}; control a list of them.
    if isinstance(data, list):
        merged = {}
        for d in data:
            merged.update(d)
        data = merged
    return data


def node(w):
    return w.name.replace("%h", socket.gethostname())


def shape(v, depth=0):
    if isinstance(v, dict):
        return {k: shape(x, depth + 1) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x, depth + 1) for x in v[:1]]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "number"
    return type(v).__name__


INSPECT_SAME_SHAPE = ["ping", "active", "reserved", "scheduled", "revoked",
                      "registered", "active_queues", "clock", "report"]


def test_inspect_commands_have_the_python_worker_shapes(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "2", "-Q", "pyq")
    pt = ctx.worker("-Q", "ptq")
    app = ctx.app()
    for q, w in (("pyq", py), ("ptq", pt)):
        app.send_task("posetrackd.sleep", args=[4], queue=q)
        app.send_task("posetrackd.echo", args=[1], queue=q, countdown=30)
        app.control.revoke(f"r-{q}", destination=[node(w)])
    time.sleep(1.0)
    for cmd in INSPECT_SAME_SHAPE:
        a = cli_json(ctx, "inspect", cmd, "-d", node(py))[node(py)]
        b = cli_json(ctx, "inspect", cmd, "-d", node(pt))[node(pt)]
        if cmd == "report":
            assert set(a) == set(b) == {"ok"}
            continue
        if cmd == "reserved":
            continue  # the python pool may have taken the message already
        assert shape(a) == shape(b), (cmd, a, b)
    a = cli_json(ctx, "inspect", "stats", "-d", node(py))[node(py)]
    b = cli_json(ctx, "inspect", "stats", "-d", node(pt))[node(pt)]
    assert set(a) == set(b), set(a) ^ set(b)
    assert set(a["broker"]) == set(b["broker"])
    for k in ("max-concurrency", "processes", "max-tasks-per-child", "timeouts"):
        assert k in b["pool"]
    assert isinstance(b["clock"], str) and isinstance(b["total"], dict)
    conf = cli_json(ctx, "inspect", "conf", "-d", node(pt))[node(pt)]
    assert conf["broker_url"] == ctx.broker
    qt = cli_json(ctx, "inspect", "query_task", "nope", "-d", node(pt))[node(pt)]
    assert qt == {}


CONTROL = [
    (["enable_events"], None),
    (["disable_events"], None),
    (["heartbeat"], None),
    (["time_limit", "posetrackd.sleep", "5", "10"], None),
    (["time_limit", "no.such", "5", "10"], None),
    (["rate_limit", "posetrackd.echo", "100/s"], None),
    (["rate_limit", "no.such", "1/s"], None),
    (["add_consumer", "q2"], None),
    (["cancel_consumer", "q2"], None),
    (["pool_grow", "2"], None),
    (["pool_shrink", "1"], None),
    (["revoke", "some-id"], None),
    (["terminate", "SIGTERM", "some-id"], None),
]


def test_control_commands_reply_like_the_python_worker(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "2", "-Q", "pyq",
                      without=("gossip", "mingle"))
    pt = ctx.worker("-Q", "ptq")
    for args, _ in CONTROL:
        a = cli_json(ctx, "control", *args, "-d", node(py))[node(py)]
        b = cli_json(ctx, "control", *args, "-d", node(pt))[node(pt)]
        assert a == b, (args, a, b)
    b = cli_json(ctx, "inspect", "stats", "-d", node(pt))[node(pt)]
    assert b["pool"]["max-concurrency"] == 512 + 2 - 1
    # registered with taskinfoitems shows what the commands above set.
    items = ["registered", "rate_limit", "time_limit", "soft_time_limit"]
    a = cli_json(ctx, "inspect", *items, "-d", node(py))[node(py)]
    b = cli_json(ctx, "inspect", *items, "-d", node(pt))[node(pt)]
    assert a == b, (a, b)
    assert "websocket_pose_session_tracker_task" in b
    assert "posetrackd.echo [rate_limit=100/s]" in b


def test_time_limit_command_applies_to_new_tasks(ctx):
    from celery.exceptions import TimeLimitExceeded
    from support import get_raises
    w = ctx.worker()
    app = ctx.app()
    reply = app.control.time_limit("posetrackd.sleep", soft=None, hard=0.3,
                                   reply=True, destination=[node(w)])
    assert reply == [{node(w): {"ok": "time limits set successfully"}}]
    get_raises(app.send_task("posetrackd.sleep", args=[10]), TimeLimitExceeded)


def test_autoscale_and_pool_commands_change_the_concurrency(ctx):
    w = ctx.worker("-c", "2")
    app = ctx.app()
    r = app.control.autoscale(7, 3, reply=True, destination=[node(w)])
    assert r == [{node(w): {"ok": "autoscale now max=7 min=3"}}]
    stats = app.control.inspect(destination=[node(w)]).stats()[node(w)]
    assert stats["pool"]["max-concurrency"] == 7
    assert stats["prefetch_count"] == 28
    results = [app.send_task("posetrackd.sleep", args=[1]) for _ in range(7)]
    t0 = time.monotonic()
    for res in results:
        res.get(timeout=10)
    assert time.monotonic() - t0 < 1.9, "seven tasks must run at once"


def test_shutdown_command_stops_the_worker_warmly(ctx):
    w = ctx.worker()
    ctx.app().control.shutdown(destination=[node(w)])
    wait_for(lambda: not w.alive(), 15)
    assert w.stop() == 0
    assert "Got shutdown from remote" in w.text()


def test_hello_shares_revoked_ids_with_a_python_worker(ctx):
    pt = ctx.worker()
    app = ctx.app()
    app.control.revoke("shared-revoke", destination=[node(pt)])
    time.sleep(0.3)
    # A Python worker with mingle asks its peers for their revoked ids.
    py = ctx.pyworker("-P", "prefork", "-c", "1", without=("heartbeat", "gossip"))
    revoked = app.control.inspect(destination=[node(py)]).revoked()[node(py)]
    assert "shared-revoke" in revoked
    # And posetrackd merges what a caller sends.
    reply = app.control.broadcast("hello", arguments={"from_node": "x@y",
                                  "revoked": {"from-peer": [time.time(), "from-peer"]}},
                                  destination=[node(pt)], reply=True, timeout=1)
    assert "shared-revoke" in reply[0][node(pt)]["revoked"]


def test_statedb_keeps_revoked_ids_across_restarts(ctx, tmp=None):
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "state.json")
    w = ctx.worker("--statedb", path)
    app = ctx.app()
    app.control.revoke("persisted-id", destination=[node(w)])
    time.sleep(0.3)
    assert w.stop() == 0
    w2 = ctx.worker("--statedb", path)
    revoked = app.control.inspect(destination=[node(w2)]).revoked()[node(w2)]
    assert revoked == ["persisted-id"]
    from celery.exceptions import TaskRevokedError
    from support import get_raises
    get_raises(app.send_task("posetrackd.echo", task_id="persisted-id"),
               TaskRevokedError)
    with open(path, "w") as f:
        f.write("{corrupt")
    from support import Worker
    try:
        Worker(ctx.broker, "--statedb", path)
        raise AssertionError("a corrupt statedb must stop start-up")
    except AssertionError as e:
        assert "statedb" in str(e)


def test_rate_limit_spaces_task_starts(ctx):
    w = ctx.worker()
    app = ctx.app()
    reply = app.control.rate_limit("posetrackd.echo", "5/s", reply=True,
                                   destination=[node(w)])
    assert reply == [{node(w): {"ok": "new rate limit set successfully"}}]
    t0 = time.monotonic()
    results = [app.send_task("posetrackd.echo", args=[i]) for i in range(6)]
    for r in results:
        r.get(timeout=10)
    took = time.monotonic() - t0
    assert 0.95 <= took < 3, took
    reply = app.control.rate_limit("posetrackd.echo", "0", reply=True,
                                   destination=[node(w)])
    assert reply == [{node(w): {"ok": "rate limit disabled successfully"}}]
    t0 = time.monotonic()
    for r in [app.send_task("posetrackd.echo", args=[i]) for i in range(6)]:
        r.get(timeout=10)
    assert time.monotonic() - t0 < 0.9
    bad = app.control.rate_limit("posetrackd.echo", "fast", reply=True,
                                 destination=[node(w)])
    assert "Invalid rate limit string" in bad[0][node(w)]["error"]


def test_add_and_cancel_consumer(ctx):
    w = ctx.worker()
    app = ctx.app()
    reply = app.control.add_consumer("extra", reply=True, destination=[node(w)])
    assert reply == [{node(w): {"ok": "add consumer extra"}}]
    assert app.send_task("posetrackd.echo", args=["x"], queue="extra").get(timeout=10) == [["x"], {}]
    names = [q["name"] for q in
             app.control.inspect(destination=[node(w)]).active_queues()[node(w)]]
    assert names == ["celery", "extra"]
    reply = app.control.cancel_consumer("extra", reply=True, destination=[node(w)])
    assert reply == [{node(w): {"ok": "no longer consuming from extra"}}]
    app.send_task("posetrackd.echo", args=["y"], queue="extra")
    time.sleep(0.5)
    assert ctx.r.llen("extra") == 1
    assert app.send_task("posetrackd.echo", args=["z"]).get(timeout=10) == [["z"], {}]


def test_mingle_learns_revoked_ids_from_a_python_worker_at_start(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "1", without=("heartbeat", "gossip"))
    app = ctx.app()
    app.control.revoke("revoked-before-start", destination=[node(py)])
    time.sleep(0.3)
    w = ctx.worker()
    wait_for(lambda: "revoked-before-start" in (
        app.control.inspect(destination=[node(w)]).revoked() or {}).get(node(w), []),
        10, interval=0.2)
    wait_for(lambda: "sync complete" in w.text(), 5)
    time.sleep(0.2)
    members = ctx.r.smembers("_kombu.binding.reply.celery.pidbox")
    assert not any(b"posetrackd-mingle" in m for m in members), members
