"""Integration test runner: every test_* function in tests/integration/
test_*.py, each with a fresh Redis database and its own workers, then one
summary line: `N passed, N failed`.

A test is a function taking a Context. Workers it starts through the
context are stopped afterwards and must exit cleanly (sanitizers on)."""
import importlib.util
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
import support  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("PT_TEST_TIMEOUT", "180"))


class Timeout(Exception):
    pass


class Context:
    def __init__(self, redis):
        self.redis = redis
        self.r = redis.client
        self.broker = redis.url()
        self._workers = []
        self._pyworkers = []
        self._apps = []

    def worker(self, *args, **kw):
        w = support.Worker(kw.pop("broker", self.broker), *args, **kw)
        self._workers.append(w)
        return w

    def pyworker(self, *args, **kw):
        w = support.PyWorker(kw.pop("broker", self.broker), *args, **kw)
        self._pyworkers.append(w)
        return w

    def app(self, **conf):
        a = support.celery_app(self.broker, **conf)
        self._apps.append(a)
        return a

    def cleanup(self):
        errors = []
        for w in self._workers:
            try:
                if w.log.closed:
                    continue
                rc = w.stop()
                if rc != 0:
                    errors.append(f"posetrackd exited with {rc}:\n{w.text()[-3000:]}")
            except AssertionError as e:
                errors.append(str(e))
        for w in self._pyworkers:
            w.stop()
        for a in self._apps:
            try:
                a.close()
            except Exception:
                pass
        if errors:
            raise AssertionError("\n".join(errors))


def discover(paths):
    tests = []
    for path in paths:
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in dir(mod):
            if attr.startswith("test_") and callable(getattr(mod, attr)):
                fn = getattr(mod, attr)
                tests.append((f"{name}.{attr}", fn, fn.__code__.co_firstlineno))
    tests.sort(key=lambda t: (t[0].split(".")[0], t[2]))
    return tests


def on_alarm(signum, frame):
    raise Timeout(f"test exceeded {TEST_TIMEOUT}s")


def main(argv):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration")
    paths = argv or sorted(os.path.join(here, f) for f in os.listdir(here)
                           if f.startswith("test_") and f.endswith(".py"))
    only = os.environ.get("PT_ONLY")
    tests = [t for t in discover(paths) if not only or only in t[0]]
    redis = support.Redis()
    passed = failed = 0
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        for name, fn, _ in tests:
            redis.client.flushall()
            ctx = Context(redis)
            start = time.monotonic()
            err = None
            signal.alarm(TEST_TIMEOUT)
            try:
                fn(ctx)
            except BaseException:
                err = traceback.format_exc()
            finally:
                signal.alarm(0)
            try:
                ctx.cleanup()
            except BaseException:
                err = (err or "") + traceback.format_exc()
            took = time.monotonic() - start
            if err:
                failed += 1
                print(f"FAIL {name} ({took:.1f}s)\n{err}", flush=True)
            else:
                passed += 1
                print(f"ok   {name} ({took:.1f}s)", flush=True)
            if redis.proc.poll() is not None:
                redis.start()
    finally:
        redis.stop()
    print(f"integration: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.stdout.flush()
    # Skip interpreter teardown: Celery result objects finalised then try
    # to talk to a Redis that is already gone and print noise.
    os._exit(rc)
