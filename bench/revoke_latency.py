"""Benchmark: revoke(terminate=True) latency, from the broadcast to the
REVOKED state published by the result backend, posetrackd against the
Python Celery worker (-P prefork) on the same Redis in one run. Prints the
median and 99th percentile of each and the ratio of the p99s."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import support  # noqa: E402

TRIALS = int(os.environ.get("BENCH_REVOKES", "100"))
TARGET_P99_MS = 10.0


def running(app, node, task_id):
    active = app.control.inspect(destination=[node], timeout=1).active() or {}
    return any(t["id"] == task_id for t in active.get(node, []))


def measure(redis, app, node, trials):
    sub = redis.client.pubsub()
    out = []
    for _ in range(trials):
        r = app.send_task("posetrackd.sleep", args=[60])
        sub.subscribe(f"celery-task-meta-{r.id}")
        support.wait_for(lambda: running(app, node, r.id), 30, interval=0.01,
                         what="the task to run")
        t0 = time.monotonic()
        app.control.revoke(r.id, terminate=True)
        while True:
            m = sub.get_message(timeout=10)
            if m is None:
                raise SystemExit("no REVOKED state within 10 s")
            if m["type"] == "message" and json.loads(m["data"])["status"] == "REVOKED":
                break
        out.append((time.monotonic() - t0) * 1000)
        sub.unsubscribe()
        sub.get_message(timeout=0.1)
    out.sort()
    return out[len(out) // 2], out[min(len(out) - 1, int(len(out) * 0.99))]


def main():
    redis = support.Redis()
    try:
        app = support.celery_app(redis.url())
        w = support.Worker(redis.url(), "-c", "1", "-l", "warning",
                           binary=os.path.join(support.ROOT, "build", "posetrackd"))
        pt = measure(redis, app, support.node_name(w.name), TRIALS)
        w.stop()
        py = support.PyWorker(redis.url(), "-P", "prefork", "-c", "1")
        pyr = measure(redis, app, support.node_name(py.name), TRIALS)
        py.stop()
    finally:
        redis.stop()
    print(f"revoke(terminate=True) -> REVOKED stored, {TRIALS} trials each")
    print(f"  posetrackd:                     median {pt[0]:7.2f} ms   p99 {pt[1]:7.2f} ms")
    print(f"  celery worker -P prefork -c 1:  median {pyr[0]:7.2f} ms   p99 {pyr[1]:7.2f} ms")
    print(f"  ratio (p99, python / posetrackd): {pyr[1] / pt[1]:.1f}x; "
          f"target p99 < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if pt[1] < TARGET_P99_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
