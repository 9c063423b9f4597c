"""Celery events: worker-online/heartbeat/offline and the task-* events,
read by `celery events --dump` and by Celery's own event receiver, and
compared field by field with the Python worker's."""
import os
import signal
import socket
import subprocess
import threading
import time

from celery.exceptions import TaskRevokedError

from support import PYTHON, get_raises, wait_for


class Capture:
    """Celery's event Receiver in a thread, collecting every event."""

    def __init__(self, app):
        self.events = []
        self.conn = app.connection()
        self.recv = app.events.Receiver(self.conn, handlers={"*": self.events.append})
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        time.sleep(1.0)  # the receiver's subscription must be in place

    def _run(self):
        try:
            self.recv.capture(limit=None, timeout=None, wakeup=False)
        except Exception:
            pass

    def of(self, type_, hostname=None):
        return [e for e in list(self.events) if e["type"] == type_ and
                (hostname is None or e["hostname"] == hostname)]

    def close(self):
        self.recv.should_stop = True
        self.thread.join(5)
        self.conn.release()


def node(w):
    return w.name.replace("%h", socket.gethostname())


def run_three_tasks(app, queue=None):
    opts = {"queue": queue} if queue else {}
    ok = app.send_task("posetrackd.echo", args=[1], **opts)
    bad = app.send_task("posetrackd.fail", args=["no"], **opts)
    long = app.send_task("posetrackd.sleep", args=[30], **opts)
    ok.get(timeout=10)
    get_raises(bad, ValueError)
    def running():
        active = app.control.inspect(timeout=0.5).active() or {}
        return any(t["id"] == long.id for ts in active.values() for t in ts)
    wait_for(running, 20, interval=0.2)
    app.control.revoke(long.id, terminate=True)
    get_raises(long, TaskRevokedError)
    return ok, bad, long


def test_celery_events_dump_shows_heartbeats_and_task_events(ctx):
    dump = subprocess.Popen([PYTHON, "-m", "celery", "-b", ctx.broker, "events",
                             "--dump"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.5)
        w = ctx.worker("-E")
        app = ctx.app()
        run_three_tasks(app)
        time.sleep(2.5)
        w.stop()
        time.sleep(0.5)
    finally:
        dump.send_signal(signal.SIGINT)
        try:
            out = dump.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            dump.kill()
            out = dump.communicate()[0]
    me = node(w)
    # evdump names worker-online "started" and worker-offline "shutdown".
    for needle in ("started:", "heartbeat:", "task received", "task started",
                   "task succeeded", "task failed", "task revoked", "shutdown:"):
        assert any(line.startswith(me) and needle in line
                   for line in out.splitlines()), (needle, out[-3000:])


def test_task_events_only_when_enabled(ctx):
    app = ctx.app()
    cap = Capture(app)
    try:
        w = ctx.worker()
        me = node(w)
        app.send_task("posetrackd.echo", args=[1]).get(timeout=10)
        wait_for(lambda: cap.of("worker-heartbeat", me), 10)
        assert cap.of("worker-online", me)
        assert not cap.of("task-succeeded", me)
        reply = app.control.enable_events(reply=True, destination=[me])
        assert reply == [{me: {"ok": "task events enabled"}}]
        app.send_task("posetrackd.echo", args=[2]).get(timeout=10)
        wait_for(lambda: cap.of("task-succeeded", me), 10)
        reply = app.control.disable_events(reply=True, destination=[me])
        assert reply == [{me: {"ok": "task events disabled"}}]
        n = len(cap.of("task-succeeded", me))
        app.send_task("posetrackd.echo", args=[3]).get(timeout=10)
        time.sleep(0.5)
        assert len(cap.of("task-succeeded", me)) == n
        before = len(cap.of("worker-heartbeat", me))
        app.control.heartbeat(destination=[me])
        wait_for(lambda: len(cap.of("worker-heartbeat", me)) > before, 5)
        w.stop()
        wait_for(lambda: cap.of("worker-offline", me), 10)
    finally:
        cap.close()


def test_event_fields_match_the_python_worker(ctx):
    app = ctx.app()
    cap = Capture(app)
    try:
        py = ctx.pyworker("-E", "-P", "prefork", "-c", "2", "-Q", "pyq",
                          without=("gossip", "mingle"))
        pt = ctx.worker("-E", "-Q", "ptq")
        run_three_tasks(app, "pyq")
        run_three_tasks(app, "ptq")
        wait_for(lambda: cap.of("worker-heartbeat", node(pt)) and
                 cap.of("worker-heartbeat", node(py)) and
                 cap.of("task-revoked", node(py)) and
                 cap.of("task-revoked", node(pt)), 20, interval=0.2)
    finally:
        cap.close()
    ignore = {"local_received"}
    for t in ("task-received", "task-started", "task-succeeded", "task-failed",
              "task-revoked", "worker-heartbeat"):
        a, b = cap.of(t, node(py)), cap.of(t, node(pt))
        assert a and b, t
        ka = set(a[0]) - ignore
        kb = set(b[0]) - ignore
        assert ka == kb, (t, ka ^ kb)
        for k in ka:
            if a[0][k] is not None and b[0][k] is not None:
                assert type(a[0][k]) == type(b[0][k]) or {type(a[0][k]), type(b[0][k])} <= {int, float}, (t, k, a[0][k], b[0][k])
