"""Benchmark: drain N pre-filled posetrackd.echo messages (made by the real
Celery client) to stored results, posetrackd against the Python Celery
worker (-P prefork -c 2, the same task in Python) on the same Redis, in one
run. Prints tasks/s of each and the ratio, and posetrackd's idle RSS.

The queue is filled under another name and renamed into place once the
worker is up, so neither figure includes start-up time."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import support  # noqa: E402

N = int(os.environ.get("BENCH_TASKS", "20000"))
TARGET_RATIO = 30.0
TARGET_RSS_KIB = 8 * 1024


def fill(redis, n):
    """Fills the list 'bench-fill' with n echo messages from the real client,
    as they would sit in the 'celery' queue."""
    app = support.celery_app(redis.url())
    with app.producer_or_acquire() as p:
        for i in range(n):
            app.send_task("posetrackd.echo", args=[i, "bench"], producer=p)
    app.close()
    redis.client.rename("celery", "bench-fill")


def drain(redis, n):
    base = redis.client.dbsize()
    t0 = time.monotonic()
    redis.client.rename("bench-fill", "celery")
    deadline = t0 + 600
    while redis.client.dbsize() - base < n - 1:  # -1: the renamed list goes
        if time.monotonic() > deadline:
            raise SystemExit("drain did not finish in 600 s")
        time.sleep(0.005)
    while redis.client.dbsize() - base < n - 1 or redis.client.exists("celery"):
        time.sleep(0.005)
    return n / (time.monotonic() - t0)


def main():
    redis = support.Redis()
    try:
        redis.client.flushall()
        fill(redis, N)
        w = support.Worker(redis.url(), "-l", "warning",
                           binary=os.path.join(support.ROOT, "build", "posetrackd"))
        time.sleep(0.5)
        idle = support.rss_kib(w.proc.pid)
        pt_rate = drain(redis, N)
        w.stop()

        redis.client.flushall()
        fill(redis, N)
        py = support.PyWorker(redis.url(), "-P", "prefork", "-c", "2",
                              loglevel="warning")
        py_rate = drain(redis, N)
        py.stop()
    finally:
        redis.stop()

    ratio = pt_rate / py_rate
    print(f"drain {N} echo tasks to stored results (same Redis, same run)")
    print(f"  posetrackd:                      {pt_rate:10.0f} tasks/s")
    print(f"  celery worker -P prefork -c 2:   {py_rate:10.0f} tasks/s")
    print(f"  ratio: {ratio:.1f}x  (target >= {TARGET_RATIO:.0f}x: "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    print(f"  posetrackd idle RSS: {idle / 1024:.1f} MiB  (target < 8 MiB: "
          f"{'met' if idle < TARGET_RSS_KIB else 'NOT met'})")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # Skip interpreter teardown: Celery result objects finalised then try
    # to reach the Redis that was just stopped, retrying for seconds.
    os._exit(0)
