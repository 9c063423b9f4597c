"""The pose session tracker end to end: the real Celery client starts
websocket_pose_session_tracker_task on posetrackd, real WebSocket servers
feed it generated climbs and record what it streams, and the session it
reports is checked against what the generator knows it climbed."""
import json
import math
import os
import ssl
import subprocess
import tempfile
import time

from celery import states

import climbs
from climbs import TRACKER, expected_times
from support import free_port, wait_for
from wsserver import RawWsServer, WsServer


def start(ctx, store, *worker_args, **kw):
    ctx.worker("--wall-store", store, "-c", str(kw.pop("concurrency", 16)),
               *worker_args)
    app = ctx.app()
    return app, app.send_task(TRACKER, kwargs=kw)


def session_status(msgs):
    s = [m for m in msgs if "session" in m]
    return s[-1]["session"]["status"] if s else None


def hold_times(session):
    return {h["id"]: h["time"] for h in session["holds"]
            if h["status"] == "touched"}


def feed(server, lines, pause=0.0):
    for line in lines:
        server.send(line)
        if pause:
            time.sleep(pause)


def stop_servers(*servers):
    for s in servers:
        if s:
            s.shutdown()


def test_generated_climb_completes_the_route_at_the_expected_times(ctx):
    store, info = climbs.make_store(seed=3)
    lines, exp = climbs.climb(store, miss=0.03, seed=5)
    path = climbs.write_frames(lines)
    port = free_port()
    replay = subprocess.Popen([climbs.REPLAY, "--port", str(port),
                               "--keep-timestamps", "--speed", "8", path],
                              stderr=subprocess.DEVNULL)
    out = WsServer()
    try:
        time.sleep(0.3)
        app, r = start(ctx, store, wall_id=1, route_id=1,
                       input_websocket_url=f"ws://127.0.0.1:{port}/",
                       output_websocket_url=out.url, touch_duration=2.0,
                       no_stream_landmarks=True)
        msgs = out.wait(lambda m: session_status(m) == "completed", 30,
                        "completed session")
        final = [m for m in msgs if "session" in m][-1]["session"]
        want = expected_times(exp, 2.0)
        assert hold_times(final) == want
        assert [h["id"] for h in final["holds"]] == \
            [h["id"] for h in info["route"]]
        assert [h["type"] for h in final["holds"]] == \
            [h["type"] for h in info["route"]]
        assert final["endTime"] == want[info["route"][-1]["id"]]
        # PROGRESS goes out at most once a second: the one after the last
        # frame counts them all.
        wait_for(lambda: r.state == "PROGRESS" and
                 r.info["session_status"] == "completed" and
                 r.info["message_count"] == exp["frames"], 12,
                 what="PROGRESS with the completed session and every frame")
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
        wait_for(lambda: out.clients() == 0, 10, what="output closed")
    finally:
        replay.terminate()
        replay.wait()
        out.shutdown()


def test_servers_restarted_mid_session_reconnect_and_session_continues(ctx):
    store, info = climbs.make_store(seed=4)
    lines, exp = climbs.climb(store, miss=0, seed=2)
    src, out = WsServer(), WsServer()
    try:
        app, r = start(ctx, store, route_id=1, input_websocket_url=src.url,
                       output_websocket_url=out.url, reconnect_delay=0.2,
                       no_stream_landmarks=True)
        src.wait_client()
        out.wait_client()
        half = len(lines) // 2
        feed(src, lines[:half])
        # What the first half touches, by the generator's account.
        upto = json.loads(lines[half - 1])["timestamp"]
        touched_before = {h: t for h, t in expected_times(exp, 2.0).items()
                          if exp["touch_start_ms"][h] + 2000 <= upto}
        assert len(touched_before) >= 3
        out.wait(lambda m: m and hold_times(m[-1]["session"]) ==
                 touched_before, 15, "the first half's holds")
        src.stop()
        out.stop()
        time.sleep(0.5)
        n_before = len(out.messages())
        out.start()
        src.start()
        src.wait_client(timeout=20)
        out.wait_client(timeout=20)
        # The screen that came back gets the state at once, no frame needed.
        msgs = out.wait(lambda m: len(m) > n_before, 10, "state after restart")
        assert hold_times(msgs[n_before]["session"]) == touched_before
        feed(src, lines[half:])
        msgs = out.wait(lambda m: session_status(m) == "completed", 20,
                        "completed after the restart")
        assert hold_times(msgs[-1]["session"]) == expected_times(exp, 2.0)
        assert src.connects == 2 and out.connects == 2
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
    finally:
        stop_servers(src, out)


def test_every_control_message_is_answered(ctx):
    store, info = climbs.make_store(seed=5)
    # A second route for update_parameters: the first three holds.
    with open(os.path.join(store, "routes", "2.json"), "w") as f:
        json.dump({"name": "short", "data": {"holds": info["route"][:3]}}, f)
    lines, exp = climbs.climb(store, miss=0, seed=3)
    src, out, ctl = WsServer(), WsServer(), WsServer()
    try:
        app, r = start(ctx, store, route_id=1, input_websocket_url=src.url,
                       output_websocket_url=out.url,
                       control_websocket_url=ctl.url,
                       no_stream_landmarks=True)
        for s in (src, out, ctl):
            s.wait_client()
        feed(src, lines[:40], 0.005)
        out.wait(lambda m: len(m) >= 40, 10, "40 session frames")

        ctl.send(json.dumps({"type": "pause_output"}))
        out.wait(lambda m: any(x.get("type") == "output_paused" for x in m))
        n = len(out.sessions())
        feed(src, lines[40:60], 0.005)
        time.sleep(0.5)
        assert len(out.sessions()) == n, "frames streamed while paused"
        ctl.send(json.dumps({"type": "resume_output"}))
        out.wait(lambda m: any(x.get("type") == "output_resumed" for x in m))

        ctl.send(json.dumps({"type": "get_status"}))
        st = out.wait(lambda m: any(x.get("type") == "status_response"
                                    for x in m))
        st = [x for x in st if x.get("type") == "status_response"][-1]
        assert st["message_count"] == 60 and st["rejected_count"] == 0
        assert st["task_id"] == r.id and st["status"] == "started"
        assert st["connections"] == {"input": True, "output": True,
                                     "control": True}
        assert st["parameters"]["proximity_threshold"] == 50.0

        ctl.send(json.dumps({"type": "update_parameters",
                             "proximity_threshold": 10, "touch_duration": 1}))
        msgs = out.wait(lambda m: any(x.get("type") == "parameters_updated"
                                      for x in m))
        upd = [x for x in msgs if x.get("type") == "parameters_updated"][-1]
        assert upd["parameters"]["proximity_threshold"] == 10
        assert upd["parameters"]["touch_duration"] == 1

        ctl.send(json.dumps({"type": "update_parameters", "route_id": 2}))
        out.wait(lambda m: m[-1].get("session") and
                 len(m[-1]["session"]["holds"]) == 3, 10, "route 2 in use")
        feed(src, lines[60:61])
        ctl.send(json.dumps({"type": "reset_holds"}))
        out.wait(lambda m: m[-1].get("session") and
                 not hold_times(m[-1]["session"]), 10, "holds reset")

        for bad, why in [("not json", "JSON objects"),
                         (json.dumps({"type": "dance"}), "unknown"),
                         (json.dumps({"type": "update_parameters",
                                      "touch_duration": -1}), ">= 0"),
                         (json.dumps({"type": "update_parameters",
                                      "route_id": 99}), "route 99")]:
            ctl.send(bad)
            out.wait(lambda m: any(x.get("type") == "error" and
                                   why in x["message"] for x in m), 10,
                     f"error reply for {bad}")
        ctl.send(json.dumps({"type": "stop"}))
        summary = r.get(timeout=10)
        assert summary["stopped_by"] == "stop"
        assert summary["message_count"] == 61
        assert summary["wall_id"] == 1 and summary["route_id"] == 2
        assert summary["session"]["status"] == "abandoned"
        assert summary["average_rate"] > 0 and summary["elapsed_time"] > 0
    finally:
        stop_servers(src, out, ctl)


def test_invalid_frames_are_counted_and_skipped(ctx):
    store, info = climbs.make_store(seed=6)
    lines, exp = climbs.climb(store, miss=0, seed=4)
    src, out, ctl = WsServer(), WsServer(), WsServer()
    good = json.loads(lines[100])
    short = dict(good, landmarks=good["landmarks"][:32])
    nan = json.dumps(good).replace(str(good["landmarks"][3]["x"]), "1e999", 1)
    bad = ["not json", "[1,2,3]", json.dumps({"type": "hello"}),
           json.dumps(short), nan, json.dumps(dict(good, timestamp="soon")),
           json.dumps(dict(good, landmarks=[{"x": "a", "y": 0}] * 33)),
           "{" * 100000, json.dumps({"landmarks": None})]
    try:
        app, r = start(ctx, store, route_id=1, input_websocket_url=src.url,
                       output_websocket_url=out.url,
                       control_websocket_url=ctl.url,
                       no_stream_landmarks=True)
        for s in (src, out, ctl):
            s.wait_client()
        mixed = []
        for i, line in enumerate(lines):
            mixed.append(line)
            if i % 50 == 0:
                mixed.append(bad[(i // 50) % len(bad)])
        feed(src, mixed)
        msgs = out.wait(lambda m: session_status(m) == "completed", 20,
                        "completed despite bad frames")
        assert hold_times(msgs[-1]["session"]) == expected_times(exp, 2.0)
        ctl.send(json.dumps({"type": "get_status"}))
        st = out.wait(lambda m: any(x.get("type") == "status_response"
                                    for x in m))
        st = [x for x in st if x.get("type") == "status_response"][-1]
        assert st["message_count"] == len(lines)
        assert st["rejected_count"] == len(mixed) - len(lines)
        assert r.state == "PROGRESS"
    finally:
        stop_servers(src, out, ctl)


def one_session(ctx, store, lines, **flags):
    src, out = WsServer(), WsServer()
    try:
        app, r = start(ctx, store, route_id=1, input_websocket_url=src.url,
                       output_websocket_url=out.url, **flags)
        src.wait_client()
        out.wait_client()
        feed(src, lines)
        msgs = out.wait(lambda m: session_status(m) == "completed", 20)
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
        return msgs
    finally:
        stop_servers(src, out)


def test_flags_choose_what_is_streamed(ctx):
    store, info = climbs.make_store(seed=7)
    lines, exp = climbs.climb(store, miss=0, seed=6, dwell=2.2)
    full = one_session(ctx, store, lines)[-1]
    assert len(full["pose"]) == 35 and "touched_svg_paths" not in full
    assert set(full["pose"][33]) == {"x", "y", "z", "visibility"}
    assert all(math.isfinite(v) for lm in full["pose"] for v in lm.values())
    bare = one_session(ctx, store, lines, no_stream_landmarks=True)[-1]
    assert set(bare) == {"session"}
    svg = one_session(ctx, store, lines, stream_svg_only=True)[-1]
    assert "pose" not in svg
    paths = svg["touched_svg_paths"]
    assert [p["id"] for p in paths] == [h["id"] for h in info["route"]]
    with open(os.path.join(store, info["wall"]["svg_file"])) as f:
        text = f.read()
    for p in paths:
        assert p["d"].startswith("M") and "style" in p
        if 'd="%s"' % p["d"] not in text:
            # Circles, rects and polygons come as equivalent paths.
            assert 'id="%s"' % p["id"] in text


def test_revoke_mid_session_sends_the_final_frame_first(ctx):
    store, info = climbs.make_store(seed=8)
    lines, exp = climbs.climb(store, miss=0, seed=7)
    src, out = WsServer(), WsServer()
    try:
        app, r = start(ctx, store, route_id=1, input_websocket_url=src.url,
                       output_websocket_url=out.url, no_stream_landmarks=True)
        src.wait_client()
        out.wait_client()
        feed(src, lines[:len(lines) // 3])
        out.wait(lambda m: len(hold_times(m[-1]["session"])) >= 2 if m
                 else False, 10)
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
        wait_for(lambda: out.clients() == 0 and src.clients() == 0, 10,
                 what="sockets closed")
        last = out.sessions()[-1]["session"]
        assert last["status"] == "abandoned" and last["endTime"]
        assert len(hold_times(last)) >= 2
    finally:
        stop_servers(src, out)


def test_bad_arguments_and_bad_walls_fail_with_clear_errors(ctx):
    store, info = climbs.make_store(seed=9)
    os.makedirs(os.path.join(store, "walls"), exist_ok=True)
    with open(os.path.join(store, "svg_files", "broken.svg"), "w") as f:
        f.write('<svg viewBox="0 0 10 10">\n<path id="a" d="M 0 0 L"/>\n</svg>')
    with open(os.path.join(store, "svg_files", "empty.svg"), "w") as f:
        f.write('<svg viewBox="0 0 10 10"><defs><circle id="c" r="1"/></defs>'
                '</svg>')
    calib = info["wall"]["perspective_transform"]
    for wid, svg, h in [(2, "broken.svg", calib), (3, "empty.svg", calib),
                        (4, "wall_1.svg", None), (5, "../../etc/passwd", calib)]:
        with open(os.path.join(store, "walls", f"{wid}.json"), "w") as f:
            json.dump({"name": "w", "svg_file": "svg_files/" + svg,
                       "perspective_transform": h}, f)
    with open(os.path.join(store, "routes", "7.json"), "w") as f:
        f.write('{"name": "cut off", "data": {"holds": [')
    ctx.worker("--wall-store", store)
    app = ctx.app()
    cases = [
        ({"wall_idd": 1}, "TypeError", "unexpected keyword argument 'wall_idd'"),
        ({"wall_id": "abc"}, "ValueError", "could not convert 'abc'"),
        ({"proximity_threshold": [1]}, "TypeError",
         "proximity_threshold must be a float, not list"),
        ({"debug": "yes"}, "TypeError", "debug must be a bool, not str"),
        ({"touch_duration": -2}, "ValueError", "touch_duration must be >= 0"),
        ({"input_websocket_url": "http://x/"}, "ValueError", "ws:// or wss://"),
        ({"route_data": "{not json"}, "ValueError", "route_data is not valid"),
        ({"route_data": {"holds": [{"id": "hold_1", "type": "crux"}]}},
         "ValueError", "type 'crux'"),
        ({"wall_id": 99}, "LookupError", "wall 99"),
        ({"route_id": 99}, "LookupError", "route 99"),
        ({"route_id": 7}, "ValueError", "route 7: "),
        ({"wall_id": 2}, "ValueError", "line 2, column 1: <path> 'a': d:"),
        ({"wall_id": 3}, "ValueError", "no holds"),
        ({"wall_id": 4}, "ValueError", "no calibration"),
        ({"wall_id": 5}, "ValueError", "not a relative path in the store"),
    ]
    results = [(app.send_task(TRACKER, kwargs=kw), exc, text)
               for kw, exc, text in cases]
    results.append((app.send_task(TRACKER, args=[1] * 14), "TypeError",
                    "takes from 0 to 13 positional arguments but 14 were given"))
    for r, exc, text in results:
        wait_for(lambda: r.state == states.FAILURE, 10, what=f"FAILURE {text}")
        got = r.result
        assert type(got).__name__ == exc, (exc, repr(got))
        assert text in str(got), (text, str(got))
    # Still answering afterwards.
    assert app.send_task("posetrackd.echo", args=[1]).get(timeout=10) == [[1], {}]


def test_five_hundred_trackers_at_once_each_with_its_own_stream(ctx):
    n = 500
    store, info = climbs.make_store(seed=10, route_holds=4)
    # Each tracker gets the same climb shifted in time, so each has its own
    # expected times.
    lines, exp = climbs.climb(store, miss=0, seed=8, dwell=0.5, move=0.2,
                              lead=0.1, fps=20)
    base = json.loads(lines[0])["timestamp"]

    async def feeder(ws, path):
        k = int(path.rsplit("/", 1)[1])
        for line in lines:
            f = json.loads(line)
            f["timestamp"] += k * 1000
            await ws.send(json.dumps(f))

    src = WsServer(feeder=feeder)
    out = WsServer()
    try:
        ctx.worker("--wall-store", store, "-c", str(n + 10))
        app = ctx.app()
        rs = [app.send_task(TRACKER, kwargs=dict(
            route_id=1, touch_duration=0.3, no_stream_landmarks=True,
            input_websocket_url=f"ws://127.0.0.1:{src.port}/in/{k}",
            output_websocket_url=f"ws://127.0.0.1:{out.port}/out/{k}"))
            for k in range(n)]

        def all_completed():
            done = 0
            for k in range(n):
                got = out.by_path.get(f"/out/{k}")
                if got and json.loads(got[-1])["session"]["status"] == \
                        "completed":
                    done += 1
            return done == n
        wait_for(all_completed, 120, interval=0.5, what="500 completed")
        for k in range(n):
            last = json.loads(out.by_path[f"/out/{k}"][-1])["session"]
            shifted = {"touch_start_ms": {h: t + k * 1000 for h, t in
                                          exp["touch_start_ms"].items()}}
            assert hold_times(last) == expected_times(shifted, 0.3), k
        for r in rs:
            r.revoke(terminate=True)
        wait_for(lambda: all(r.state == states.REVOKED for r in rs), 60,
                 interval=0.5, what="all revoked")
        assert base > 0
    finally:
        stop_servers(src, out)


def self_signed_cert():
    """A certificate for 127.0.0.1 and its key, made by openssl."""
    d = tempfile.mkdtemp(prefix="pt-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def test_wss_streams_are_verified_against_the_ca_file(ctx):
    store, info = climbs.make_store(seed=12)
    lines, exp = climbs.climb(store, miss=0, seed=9)
    cert, key = self_signed_cert()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    src, out = WsServer(ssl=tls), WsServer(ssl=tls)
    try:
        assert src.url.startswith("wss://")
        # Without the CA the certificate is refused: no connection, retries.
        ctx.worker("--wall-store", store, "-n", "plain@%h")
        app = ctx.app()
        r0 = app.send_task(TRACKER, kwargs=dict(
            route_id=1, input_websocket_url=src.url,
            output_websocket_url=out.url, reconnect_delay=0.2))
        wait_for(lambda: r0.state == "PROGRESS", 10, what="PROGRESS")
        time.sleep(1.0)
        assert src.connects == 0 and out.connects == 0
        assert r0.info["input_connected"] is False
        r0.revoke(terminate=True)
        wait_for(lambda: r0.state == states.REVOKED, 10, what="REVOKED")
        ctx.worker("--wall-store", store, "--ws-ca-file", cert, "-n",
                   "tls@%h", "-Q", "tls")
        r = app.send_task(TRACKER, queue="tls", kwargs=dict(
            route_id=1, input_websocket_url=src.url,
            output_websocket_url=out.url, no_stream_landmarks=True))
        src.wait_client()
        out.wait_client()
        feed(src, lines)
        msgs = out.wait(lambda m: session_status(m) == "completed", 20,
                        "completed over wss")
        assert hold_times(msgs[-1]["session"]) == expected_times(exp, 2.0)
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
    finally:
        stop_servers(src, out)


class RefusingServer(RawWsServer):
    """Accepts TCP connections on a port and closes them at once, noting
    when each came: a WebSocket server that is down but still listening."""

    def __init__(self, port):
        self.times = []
        super().__init__(port)

    def serve(self, conn, nth):
        self.times.append(time.monotonic())


def test_reconnects_back_off_doubling_and_reset_after_a_success(ctx):
    store, info = climbs.make_store(seed=13)
    port = free_port()
    down = RefusingServer(port)
    out = WsServer()
    src = None
    try:
        app, r = start(ctx, store, route_id=1, reconnect_delay=0.2,
                       input_websocket_url=f"ws://127.0.0.1:{port}/ws/",
                       output_websocket_url=out.url)
        wait_for(lambda: len(down.times) >= 5, 15,
                 what=f"five attempts (saw {down.times})")
        gaps = [b - a for a, b in zip(down.times, down.times[1:])][:4]
        for gap, want in zip(gaps, [0.2, 0.4, 0.8, 1.6]):
            assert want * 0.8 < gap < want * 1.5 + 0.1, (gaps, want)
        down.shutdown()
        src = WsServer(port)
        src.wait_client(timeout=10)
        # Connected: the next loss retries after reconnect_delay again.
        time.sleep(0.3)
        src.shutdown()
        src = None
        lost = time.monotonic()
        down = RefusingServer(port)
        wait_for(lambda: down.times, 5, what="a retry after the loss")
        assert down.times[0] - lost < 0.6, down.times[0] - lost
        assert out.clients() == 1
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
    finally:
        stop_servers(down, src, out)


def test_time_limits_end_the_session_as_abandoned(ctx):
    store, info = climbs.make_store(seed=14)
    lines, exp = climbs.climb(store, miss=0, seed=10)
    src, out = WsServer(), WsServer()
    try:
        ctx.worker("--wall-store", store)
        app = ctx.app()
        kw = dict(route_id=1, input_websocket_url=src.url,
                  output_websocket_url=out.url, no_stream_landmarks=True)
        soft = app.send_task(TRACKER, kwargs=kw, soft_time_limit=1.5)
        src.wait_client()
        out.wait_client()
        feed(src, lines[:60])
        summary = soft.get(timeout=10)
        assert summary["stopped_by"] == "time_limit"
        assert summary["session"]["status"] == "abandoned"
        assert summary["message_count"] == 60
        last = out.sessions()[-1]["session"]
        assert last["status"] == "abandoned" and last["endTime"]
        wait_for(lambda: out.clients() == 0, 10, what="sockets closed")

        hard = app.send_task(TRACKER, kwargs=kw, time_limit=1.5)
        out.wait_client()
        n = len(out.sessions())
        wait_for(lambda: hard.state == states.FAILURE, 10, what="FAILURE")
        assert type(hard.result).__name__ == "TimeLimitExceeded"
        out.wait(lambda m: len([x for x in m if "session" in x]) > n and
                 [x for x in m if "session" in x][-1]["session"]["status"] ==
                 "abandoned", 10, "the final frame after the hard limit")
    finally:
        stop_servers(src, out)


def test_debug_turns_on_the_tasks_own_debug_log(ctx):
    store, info = climbs.make_store(seed=15)
    src, out = WsServer(), WsServer()
    try:
        w = ctx.worker("--wall-store", store, "-l", "warning")
        app = ctx.app()
        kw = dict(route_id=1, input_websocket_url=src.url,
                  output_websocket_url=out.url)
        quiet = app.send_task(TRACKER, kwargs=kw)
        loud = app.send_task(TRACKER, kwargs=dict(kw, debug=True))
        wait_for(lambda: src.clients() == 2 and out.clients() == 2, 10,
                 what="both trackers connected")
        src.send("not a frame")
        wait_for(lambda: "frame rejected: not_json" in w.text(), 10,
                 what="the debug line")
        text = w.text()
        assert f"DEBUG/MainProcess] {climbs.TRACKER}[{loud.id}]: frame " \
            "rejected: not_json" in text
        assert f"[{loud.id}]: connected to {src.url}" in text
        assert f"[{quiet.id}]: frame rejected" not in text
        for r in (quiet, loud):
            r.revoke(terminate=True)
        wait_for(lambda: quiet.state == loud.state == states.REVOKED, 10,
                 what="REVOKED")
    finally:
        stop_servers(src, out)


def test_warm_shutdown_ends_running_trackers_with_their_summary(ctx):
    store, info = climbs.make_store(seed=16)
    lines, exp = climbs.climb(store, miss=0, seed=11)
    src, out = WsServer(), WsServer()
    try:
        # A tracker runs until stopped: when the warm shutdown's wait runs
        # out it is asked to stop, and ends with its summary.
        w = ctx.worker("--wall-store", store, "--shutdown-timeout", "1")
        app = ctx.app()
        r = app.send_task(TRACKER, kwargs=dict(
            route_id=1, input_websocket_url=src.url,
            output_websocket_url=out.url, no_stream_landmarks=True))
        src.wait_client()
        out.wait_client()
        feed(src, lines[:30])
        out.wait(lambda m: len(m) >= 30, 10, "30 frames")
        assert w.stop() == 0
        summary = r.get(timeout=10)
        assert summary["stopped_by"] == "shutdown"
        assert summary["message_count"] == 30
        assert out.sessions()[-1]["session"]["status"] == "abandoned"
    finally:
        stop_servers(src, out)


class SilentWsServer(RawWsServer):
    """Completes the handshake and then never sends a byte, pongs included:
    it notes every frame opcode a client sends and every connection."""

    def __init__(self):
        self.opcodes = []
        super().__init__()

    def serve(self, conn, nth):
        got = self.read_head(conn)
        if got:
            self.send_101(conn, self.accept_for(got[0]))
            self.read_frames(conn, got[1],
                             lambda op, payload: self.opcodes.append(op))


def test_a_silent_link_is_pinged_then_dropped_and_reconnected(ctx):
    store, info = climbs.make_store(seed=17)
    silent = SilentWsServer()
    out = WsServer()
    try:
        app, r = start(ctx, store, "--ws-ping-interval", "1", route_id=1,
                       input_websocket_url=silent.url,
                       output_websocket_url=out.url, reconnect_delay=0.2)
        wait_for(lambda: 9 in silent.opcodes, 10, what="a ping (opcode 9)")
        # Unanswered for twice the interval: the link is dropped and made
        # again, while the healthy output link (it answers) stays up.
        wait_for(lambda: silent.connects >= 2, 10, what="a reconnect")
        assert out.connects == 1
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
    finally:
        stop_servers(silent, out)


class HostileWsServer(RawWsServer):
    """Misbehaves differently on each connection: a 404, a wrong
    Sec-WebSocket-Accept, a masked frame (servers must not mask), and then
    a good connection that pings, sends a message over the tracker's 64 KiB
    limit in two fragments and a pose frame in three. It notes what the
    client sends back."""

    def __init__(self, frame):
        self.frame = frame.encode()
        self.opcodes, self.pong = [], None
        super().__init__()

    def serve(self, conn, nth):
        got = self.read_head(conn)
        if not got:
            return
        if nth == 1:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        self.send_101(conn, b"wrong" if nth == 2 else self.accept_for(got[0]))
        if nth == 2:
            time.sleep(0.5)
            return
        if nth == 3:
            conn.sendall(b"\x81\x82\x01\x02\x03\x04" + bytes([ord("h") ^ 1,
                                                            ord("i") ^ 2]))
            time.sleep(0.5)
            return
        f = self.frame_bytes
        big = b"x" * (100 * 1024)
        third = len(self.frame) // 3
        conn.sendall(f(9, b"hi") +
                     f(1, big[:60000], fin=False) + f(0, big[60000:]) +
                     f(1, self.frame[:third], fin=False) +
                     f(9, b"p2") +
                     f(0, self.frame[third:2 * third], fin=False) +
                     f(0, self.frame[2 * third:]))

        def note(op, payload):
            self.opcodes.append(op)
            if op == 10 and self.pong is None:
                self.pong = payload
        self.read_frames(conn, got[1], note)


def test_a_hostile_server_is_refused_and_a_good_one_read_in_fragments(ctx):
    store, info = climbs.make_store(seed=21)
    lines, _ = climbs.climb(store, miss=0, seed=2)
    hostile = HostileWsServer(lines[0])
    out = WsServer()
    try:
        w = ctx.worker("--wall-store", store)
        app = ctx.app()
        r = app.send_task(TRACKER, kwargs=dict(
            route_id=1, input_websocket_url=hostile.url,
            output_websocket_url=out.url, reconnect_delay=0.1))
        wait_for(lambda: r.state == "PROGRESS" and
                 r.info["message_count"] == 1 and
                 r.info["rejected_count"] == 1, 15,
                 what="the fragmented frame taken, the oversize one counted")
        assert r.info["input_connected"] is True
        assert hostile.connects == 4
        wait_for(lambda: hostile.pong is not None, 5, what="a pong")
        assert hostile.pong == b"hi"
        log = w.text()
        for why in ("the server refused the upgrade",
                    "wrong Sec-WebSocket-Accept",
                    "masked frame from a server"):
            assert why in log, why
        # The session frame for the pose went out to the screen.
        out.wait(lambda m: any("session" in x for x in m), 10,
                 "a session frame")
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
    finally:
        stop_servers(hostile, out)


def test_a_burst_far_faster_than_real_time_is_read_whole_and_in_order(ctx):
    # Thousands of frames at once: the tracker's reads fill their buffer,
    # so the stream is paused at each loop turn's end and resumed (the
    # fairness that keeps PROGRESS and Redis going under a backlog). No
    # frame may be lost or reordered on the way.
    store, info = climbs.make_store(seed=23)
    lines, exp = climbs.climb(store, miss=0, seed=4)
    passes = 4
    span = json.loads(lines[-1])["timestamp"] - \
        json.loads(lines[0])["timestamp"] + 1000

    async def feeder(ws, path):
        for p in range(passes):
            for line in lines:
                f = json.loads(line)
                f["timestamp"] += p * span
                await ws.send(json.dumps(f))

    src, out = WsServer(feeder=feeder), WsServer()
    try:
        app, r = start(ctx, store, route_id=1, input_websocket_url=src.url,
                       output_websocket_url=out.url, no_stream_landmarks=True)
        wait_for(lambda: r.state == "PROGRESS" and
                 r.info["message_count"] == passes * len(lines), 60,
                 interval=0.5, what="every frame of the burst")
        assert r.info["rejected_count"] == 0
        # One session frame per pose, even though each read held dozens
        # (they go out corked, in one write per read), unless the screen
        # fell behind and a newer one replaced it: none is lost. One more
        # is the state sent when the screen connected.
        sent = 1 + passes * len(lines)
        wait_for(lambda: len([m for m in out.json() if "session" in m]) +
                 r.info["superseded_count"] == sent, 20, interval=0.5,
                 what="a session frame for every pose")
        # In order: time never went backwards, so the first pass's holds
        # kept the generator's times.
        final = [m for m in out.json() if "session" in m][-1]["session"]
        assert hold_times(final) == expected_times(exp, 2.0)
        r.revoke(terminate=True)
        wait_for(lambda: r.state == states.REVOKED, 10, what="REVOKED")
    finally:
        stop_servers(src, out)
