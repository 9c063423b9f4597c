"""make demo: posetrackd serving a real Python Celery client.

Starts a throwaway redis-server and posetrackd on loopback, then uses the
ordinary Celery client from Debian: a burst of tasks and their results, a
failure raised as the right Python exception, a countdown, an unknown task
and a time limit, inspect active and a revoke with terminate; then a warm
shutdown. Everything is cleaned up."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import support  # noqa: E402


def step(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def main():
    redis = support.Redis()
    worker = None
    try:
        step(f"redis-server on 127.0.0.1:{redis.port}; starting posetrackd")
        worker = support.Worker(redis.url(), "-c", "64",
                                binary=os.path.join(support.ROOT, "build", "posetrackd"))
        print(worker.text().split("[20")[0].rstrip())
        app = support.celery_app(redis.url())

        step("a burst of 2000 posetrackd.echo tasks with send_task(), then .get() each")
        t0 = time.monotonic()
        results = [app.send_task("posetrackd.echo", args=[i, "héllo", 2 ** 80],
                                 kwargs={"n": i}) for i in range(2000)]
        values = [r.get(timeout=30) for r in results]
        dt = time.monotonic() - t0
        assert all(v == [[i, "héllo", 2 ** 80], {"n": i}] for i, v in enumerate(values))
        print(f"2000 results, all correct, in {dt:.2f}s (client-bound); last: {values[-1]}")

        step("a failure: posetrackd.fail('the wall is wet')")
        try:
            app.send_task("posetrackd.fail", args=["the wall is wet"]).get(timeout=10)
        except ValueError as e:
            print(f"the client raised {type(e).__name__}: {e}")

        step("a countdown: posetrackd.echo('later', countdown=2) while others run")
        t0 = time.monotonic()
        later = app.send_task("posetrackd.echo", args=["later"], countdown=2)
        now = app.send_task("posetrackd.sleep", args=[0.5])
        print(f"sleep(0.5) -> {now.get(timeout=10)} after {time.monotonic() - t0:.2f}s, "
              f"countdown task still {later.state}")
        print(f"countdown task -> {later.get(timeout=10)} after {time.monotonic() - t0:.2f}s")

        step("an unknown task and a time limit")
        try:
            app.send_task("climber.tasks.not_here").get(timeout=10)
        except Exception as e:
            print(f"unknown task: {type(e).__name__}: {e}")
        try:
            app.send_task("posetrackd.sleep", args=[30], time_limit=1).get(timeout=10)
        except Exception as e:
            print(f"sleep(30) with time_limit=1 raised {e!r}")

        step("remote control: inspect active, then revoke(terminate=True)")
        node = worker.name.replace("%h", __import__("socket").gethostname())
        long = app.send_task("posetrackd.sleep", args=[60])
        support.wait_for(lambda: (app.control.inspect(destination=[node], timeout=0.5)
                                  .active() or {}).get(node), 10)
        active = app.control.inspect(destination=[node], timeout=0.5).active()[node]
        print(f"active on {node}: {[(t['name'], t['args']) for t in active]}")
        t0 = time.monotonic()
        print(app.control.revoke(long.id, terminate=True, reply=True, timeout=0.5))
        try:
            long.get(timeout=10)
        except Exception as e:
            print(f"sleep(60) -> {long.state} ({e!r})")

        step("warm shutdown (SIGTERM)")
        rc = worker.stop()
        print(f"posetrackd exited with {rc}; its last log lines:")
        print("\n".join(worker.text().rstrip().splitlines()[-4:]))
        app.close()
    finally:
        if worker and worker.alive():
            worker.kill()
        redis.stop()
    print("\ndemo done.")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # Skip interpreter teardown: Celery result objects finalised then try
    # to reach the Redis that was just stopped, retrying for seconds.
    os._exit(0)
