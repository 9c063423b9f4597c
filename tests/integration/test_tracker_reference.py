"""Differential: the tracker in posetrackd against an independent
implementation of the same semantics in Python and numpy
(bench/tracker_numpy.py), frame by frame, on generated climbs. posetrackd
runs as deployed (Celery client, WebSockets); the reference runs in this
process on the same frames and the same flattened outlines."""
import importlib.util
import json
import os
import subprocess
import time

import climbs
from climbs import TRACKER
from support import ROOT, wait_for
from wsserver import WsServer

_spec = importlib.util.spec_from_file_location(
    "tracker_numpy", os.path.join(ROOT, "bench", "tracker_numpy.py"))
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


def outlines(store):
    out = subprocess.run([os.path.join(ROOT, "build/bench/tracker_core"), store,
                          "--outlines"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def close(a, b, tol=1.5e-6):
    return all(abs(a[k] - b[k]) <= tol for k in ("x", "y", "z", "visibility"))


def test_every_session_frame_matches_the_python_reference(ctx):
    store, info = climbs.make_store(seed=21, cols=8, rows=10)
    lines, exp = climbs.climb(store, miss=0.05, seed=21, noise=0.002)
    route = info["route"]
    src, out = WsServer(), WsServer()
    try:
        ctx.worker("--wall-store", store)
        app = ctx.app()
        r = app.send_task(TRACKER, kwargs=dict(
            route_id=1, input_websocket_url=src.url,
            output_websocket_url=out.url))
        src.wait_client()
        out.wait_client()
        # The screen gets the state as it connects, before any frame.
        wait_for(lambda: out.received, 10, what="the initial state")
        base = len(out.received)
        # One frame at a time, so no session frame supersedes another.
        for i, line in enumerate(lines):
            src.send(line)
            wait_for(lambda: len(out.received) > base + i, 10,
                     interval=0.001, what=f"session frame {i}")
        got = out.json()[base:]
        start = got[0]["session"]["startTime"]
        ref = reference.Tracker(outlines(store), route, 0)
        mismatches = []
        for i, line in enumerate(lines):
            want = json.loads(ref.frame(line, 0))
            want["session"]["startTime"] = start  # the tracker's own clock
            if want["session"] != got[i]["session"]:
                mismatches.append((i, want["session"], got[i]["session"]))
            elif not all(close(a, b) for a, b in zip(want["pose"],
                                                     got[i]["pose"])):
                mismatches.append((i, want["pose"], got[i]["pose"]))
        assert not mismatches, mismatches[:2]
        assert got[-1]["session"]["status"] == "completed"
        r.revoke(terminate=True)
        wait_for(lambda: r.state == "REVOKED", 10, what="REVOKED")
    finally:
        src.shutdown()
        out.shutdown()


def stream_one_by_one(src, out, lines):
    wait_for(lambda: out.received, 30, what="the first output")
    base = len(out.received)
    for i, line in enumerate(lines):
        src.send(line)
        wait_for(lambda: len(out.received) > base + i, 10, interval=0.001,
                 what=f"session frame {i}")
    return [m["session"] for m in out.json()[base:]]


def test_python_worker_and_posetrackd_stream_the_same_sessions(ctx):
    """Differential through Celery: the same climb to the tracker task on
    the real Python worker (tests_app's twin) and on posetrackd."""
    store, info = climbs.make_store(seed=22, cols=8, rows=10)
    lines, exp = climbs.climb(store, miss=0.05, seed=22, noise=0.002)
    ctx.pyworker("-P", "prefork", "-c", "1", "-Q", "pyq",
                 env={"PT_WALL_STORE": store})
    ctx.worker("--wall-store", store, "-Q", "ptq")
    app = ctx.app()
    sessions = {}
    for queue in ("pyq", "ptq"):
        src, out = WsServer(), WsServer()
        try:
            r = app.send_task(TRACKER, queue=queue, kwargs=dict(
                route_id=1, input_websocket_url=src.url,
                output_websocket_url=out.url, no_stream_landmarks=True))
            src.wait_client(timeout=30)
            out.wait_client(timeout=30)
            if queue == "pyq":
                # The twin sends nothing before the first frame.
                src.send(lines[0])
                got = stream_one_by_one(src, out, lines[1:])
                got.insert(0, out.json()[0]["session"])
            else:
                got = stream_one_by_one(src, out, lines)
            sessions[queue] = got
            wait_for(lambda: r.state == "PROGRESS", 10, what="PROGRESS")
            r.revoke(terminate=True)
            wait_for(lambda: r.state == "REVOKED", 15, what="REVOKED")
        finally:
            src.shutdown()
            out.shutdown()
    py, pt = sessions["pyq"], sessions["ptq"]
    assert len(py) == len(pt) == len(lines)
    for a, b in zip(py, pt):
        a = dict(a, startTime=None)
        b = dict(b, startTime=None)
        assert a == b, (a, b)
    assert pt[-1]["status"] == "completed"
