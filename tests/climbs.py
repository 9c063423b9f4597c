"""Fixtures for the tracker's tests: generated wall stores (scripts/
wallgen.py), generated climbs (build/posetrack-climb) and what the tracker
must make of them."""
import datetime
import importlib.util
import json
import os
import subprocess
import tempfile

from support import ROOT

TRACKER = "climber.tasks.websocket_pose_session_tracker_task"
CLIMB = os.path.join(ROOT, "build", "posetrack-climb")
REPLAY = os.path.join(ROOT, "build", "posetrack-replay")
VIEW = os.path.join(ROOT, "build", "posetrack-view")

_spec = importlib.util.spec_from_file_location(
    "wallgen", os.path.join(ROOT, "scripts", "wallgen.py"))
wallgen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wallgen)


def make_store(**kw):
    """A fresh wall store directory with wall 1 and route 1 (kw go to
    wallgen.write_store); returns (dir, info)."""
    root = tempfile.mkdtemp(prefix="pt-walls-")
    return root, wallgen.write_store(root, **kw)


def climb(store, wall=1, route=1, start_ms=1_800_000_000_000, **opts):
    """Runs posetrack-climb; returns (frames as text lines, expectation)."""
    fd, expect = tempfile.mkstemp(prefix="pt-expect-", suffix=".json")
    os.close(fd)
    cmd = [CLIMB, "--wall-store", store, "--wall", str(wall), "--route",
           str(route), "--start-ms", str(start_ms), "--expect", expect]
    for k, v in opts.items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    with open(expect) as f:
        exp = json.load(f)
    os.unlink(expect)
    return out.stdout.splitlines(), exp


def iso_ms(ms):
    """The tracker's time format: ISO-8601 UTC to the millisecond, Z."""
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (round(ms) % 1000)


def expected_times(exp, touch_duration):
    """hold id -> the `time` the tracker must report for it."""
    return {h: iso_ms(ms + touch_duration * 1000)
            for h, ms in exp["touch_start_ms"].items()}


def write_frames(lines):
    fd, path = tempfile.mkstemp(prefix="pt-climb-", suffix=".jsonl")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
