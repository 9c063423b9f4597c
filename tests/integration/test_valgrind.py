"""The release build under valgrind: a mix of good, failing, timed-out and
malformed work, then a warm shutdown, with no memory errors and no
leaks."""
import os
import re

from support import ROOT
from test_malformed import bad_messages


def test_valgrind_clean(ctx):
    binary = os.path.join(ROOT, "build", "posetrackd")
    w = ctx.worker("--max-message-size", "65536", "--track-started",
                   "--result-extended", binary=binary,
                   wrapper=["valgrind", "--quiet", "--error-exitcode=99",
                            "--leak-check=full", "--show-leak-kinds=definite,indirect",
                            "--errors-for-leak-kinds=definite,indirect",
                            "--track-fds=no"])
    for raw, _, _ in bad_messages():
        ctx.r.lpush("celery", raw)
    app = ctx.app()
    results = [app.send_task("posetrackd.echo", args=[i, "ü", 2 ** 90]) for i in range(50)]
    results.append(app.send_task("posetrackd.fail", args=["x"]))
    results.append(app.send_task("posetrackd.sleep", args=[5], time_limit=0.2))
    results.append(app.send_task("posetrackd.sleep", args=[5], soft_time_limit=0.2))
    results.append(app.send_task("posetrackd.echo", countdown=0.3))
    results.append(app.send_task("posetrackd.echo", args=["x" * 70000]))
    for r in results:
        r.get(timeout=60, propagate=False)
    # --error-exitcode turns any memory error or leak into exit code 99,
    # and with --quiet valgrind prints nothing unless it found something.
    assert w.stop() == 0, w.text()[-4000:]
    assert not re.search(r"^==\d+==", w.text(), re.M), w.text()[-4000:]


def test_valgrind_clean_with_trackers(ctx):
    """Trackers under valgrind: WebSockets in and out, control messages,
    bad frames, a setup failure, a stop, a revoke, then a warm shutdown."""
    import json
    import time

    import climbs
    from support import wait_for
    from wsserver import WsServer

    store, info = climbs.make_store(seed=31)
    lines, exp = climbs.climb(store, miss=0, seed=31, dwell=0.4, move=0.2,
                              lead=0.1)
    src, out, ctl = WsServer(), WsServer(), WsServer()
    try:
        w = ctx.worker("--wall-store", store, "--shutdown-timeout", "1",
                       binary=os.path.join(ROOT, "build", "posetrackd"),
                       wrapper=["valgrind", "--quiet", "--error-exitcode=99",
                                "--leak-check=full",
                                "--show-leak-kinds=definite,indirect",
                                "--errors-for-leak-kinds=definite,indirect",
                                "--track-fds=no"])
        app = ctx.app()
        bad = app.send_task(climbs.TRACKER, kwargs={"wall_id": 99})
        kw = dict(route_id=1, input_websocket_url=src.url,
                  output_websocket_url=out.url, touch_duration=0.2,
                  control_websocket_url=ctl.url)
        stopped = app.send_task(climbs.TRACKER, kwargs=kw)
        for s in (src, out, ctl):
            s.wait_client(timeout=60)
        for i, line in enumerate(lines):
            src.send(line)
            if i % 20 == 0:
                src.send("{bad")
        ctl.send(json.dumps({"type": "get_status"}))
        ctl.send(json.dumps({"type": "update_parameters", "route_id": 1}))
        ctl.send(json.dumps({"type": "reset_holds"}))
        ctl.send(json.dumps({"type": "stop"}))
        assert stopped.get(timeout=60)["stopped_by"] == "stop"
        revoked = app.send_task(climbs.TRACKER, kwargs=kw)
        src.wait_client(timeout=60)
        src.send(lines[0])
        time.sleep(1)
        revoked.revoke(terminate=True)
        wait_for(lambda: revoked.state == "REVOKED", 60, what="REVOKED")
        running = app.send_task(climbs.TRACKER, kwargs=kw)
        src.wait_client(timeout=60)
        wait_for(lambda: running.state == "PROGRESS", 60, what="PROGRESS")
        assert bad.state == "FAILURE"
        assert w.stop(timeout=120) == 0, w.text()[-4000:]
        assert not re.search(r"^==\d+==", w.text(), re.M), w.text()[-4000:]
    finally:
        for s in (src, out, ctl):
            s.shutdown()
