"""The Python twins of posetrackd's tasks (the built-in ones and the
tracker), for differential tests and the benchmarks:
`celery -A tests_app worker`."""
import os
import time

from celery import Celery

app = Celery("tests_app", broker=os.environ["PT_BROKER"],
             backend=os.environ.get("PT_BACKEND", os.environ["PT_BROKER"]))
app.conf.result_extended = os.environ.get("PT_RESULT_EXTENDED") == "1"


@app.task(name="posetrackd.echo")
def echo(*args, **kwargs):
    return [list(args), kwargs]


@app.task(name="posetrackd.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="posetrackd.fail")
def fail(message):
    raise ValueError(message)


# The tracker's Python twin: DESIGN §6's per-frame algorithm as
# bench/tracker_numpy.py has it, with WebSocket I/O, as a Python tracker
# task runs under the prefork pool. It knows only what the differential
# tests and the end-to-end benchmark use: wall 1 of $PT_WALL_STORE, a route
# file, the input and output sockets, no_stream_landmarks and PROGRESS.
TRACKER_NAMES = ("climber.tasks.websocket_pose_session_tracker_task",
                 "websocket_pose_session_tracker_task")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _reference():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "tracker_numpy", os.path.join(ROOT, "bench", "tracker_numpy.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


async def _stream(task, tracker, in_url, out_url, bare):
    import json
    import websockets
    count, start, last = 0, time.time(), 0.0
    async with websockets.connect(out_url) as out, \
            websockets.connect(in_url, max_size=2 ** 20) as src:
        async for msg in src:
            frame = tracker.frame(msg, time.time())
            if frame is None:
                continue
            count += 1
            if bare:
                d = json.loads(frame)
                d.pop("pose")
                frame = json.dumps(d)
            await out.send(frame)
            now = time.time()
            if now - last >= 1:
                task.update_state(state="PROGRESS", meta={
                    "status": "running", "message_count": count,
                    "elapsed_time": now - start,
                    "session_status": tracker.status,
                    "input_connected": True, "output_connected": True})
                last = now


def _tracker(self, wall_id=1, input_websocket_url="ws://localhost:8001/ws/pose/",
             output_websocket_url="ws://localhost:8002/ws/session/",
             proximity_threshold=50.0, touch_duration=2.0, reconnect_delay=5.0,
             debug=False, no_stream_landmarks=False, stream_svg_only=False,
             route_data=None, route_id=None, control_websocket_url=None,
             visibility_threshold=0.2):
    import asyncio
    import json
    import subprocess
    store = os.environ["PT_WALL_STORE"]
    if wall_id != 1:
        raise LookupError(f"wall {wall_id}: the twin knows wall 1 only")
    wall = json.loads(subprocess.run(
        [os.path.join(ROOT, "build", "bench", "tracker_core"), store,
         "--outlines"], check=True, capture_output=True, text=True).stdout)
    with open(os.path.join(store, "routes", f"{route_id}.json")) as f:
        route = json.load(f)["data"]["holds"]
    tracker = _reference().Tracker(wall, route, time.time(),
                                   proximity_threshold, touch_duration,
                                   visibility_threshold)
    asyncio.run(_stream(self, tracker, input_websocket_url,
                        output_websocket_url, no_stream_landmarks))


for _name in TRACKER_NAMES:
    app.task(name=_name, bind=True)(_tracker)
