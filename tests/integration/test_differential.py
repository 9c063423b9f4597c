"""Differential: the same calls against the Python Celery worker and
against posetrackd, compared as the client sees them (stored state
documents, modulo ids, times and traceback text)."""
import datetime
import json
import time

from support import wait_for
from test_roundtrip import VALUES

CALLS = (
    [("posetrackd.echo", v, {"k": v}, {}) for v in VALUES] + [
        ("posetrackd.echo", [], {}, {}),
        ("posetrackd.fail", ["boom ✓"], {}, {}),
        ("posetrackd.fail", [], {"message": "by name"}, {}),
        ("posetrackd.sleep", [], {}, {}),
        ("posetrackd.sleep", [1, 2], {}, {}),
        ("posetrackd.sleep", [], {"secs": 1}, {}),
        ("posetrackd.sleep", [0], {"seconds": 1}, {}),
        ("posetrackd.sleep", [0.05], {}, {}),
        ("posetrackd.sleep", [10], {}, {"time_limit": 0.5}),
        ("no.such.task", [1], {}, {}),
        ("posetrackd.echo", [1], {}, {"countdown": 0.5}),
        ("posetrackd.echo", [1], {}, {"expires": -5}),
    ])


def normalise(meta):
    meta = dict(meta)
    meta.pop("task_id")
    assert meta.pop("date_done") is not None
    tb = meta.pop("traceback")
    meta["has_traceback"] = tb is not None
    return meta


def run_calls(ctx):
    app = ctx.app()
    now = datetime.datetime.now(datetime.timezone.utc)
    ids = []
    for name, args, kwargs, opts in CALLS:
        opts = dict(opts)
        if "expires" in opts:
            opts["expires"] = now + datetime.timedelta(seconds=opts["expires"])
        ids.append(app.send_task(name, args=args, kwargs=kwargs, **opts).id)
    metas = []
    for tid, call in zip(ids, CALLS):
        raw = wait_for(lambda: ctx.r.get(f"celery-task-meta-{tid}"), 30,
                       what=f"result of {call}")
        metas.append(normalise(json.loads(raw)))
    return metas


def test_same_results_as_the_python_worker(ctx):
    py = ctx.pyworker("-P", "prefork", "-c", "2")
    expected = run_calls(ctx)
    py.stop()
    ctx.r.flushall()
    ctx.worker()
    got = run_calls(ctx)
    for call, e, g in zip(CALLS, expected, got):
        assert e == g, f"{call}:\n python:     {e}\n posetrackd: {g}"
