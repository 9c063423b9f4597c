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
