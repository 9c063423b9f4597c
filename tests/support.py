"""Test and benchmark support: throwaway servers and workers on loopback.

Everything here talks to real programs: redis-server, the posetrackd
binary, and the Python Celery worker and client from Debian
(/usr/bin/python3). Each server lives in its own temporary directory and
is stopped by the object that started it.
"""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
POSETRACKD = os.environ.get("PT_BIN", os.path.join(ROOT, "build/asan/posetrackd"))
TESTS_APP_DIR = os.path.join(ROOT, "tests", "integration")


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_name(name):
    """A worker's node name as replies carry it (%h expanded)."""
    return name.replace("%h", socket.gethostname())


def rss_kib(pid):
    """A process's resident memory in KiB, for the benchmarks."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate until it is true; bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Redis:
    """A redis-server on 127.0.0.1 in a temporary directory."""

    def __init__(self, port=None, password=None):
        self.dir = tempfile.mkdtemp(prefix="pt-redis-")
        self.port = port or free_port()
        self.password = password
        self.socket = os.path.join(self.dir, "redis.sock")
        self.proc = None
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.socket, "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        import redis
        self.client = redis.Redis(host="127.0.0.1", port=self.port,
                                  password=self.password)
        wait_for(self._ping, 10, what="redis-server")

    def _ping(self):
        try:
            return self.client.ping()
        except Exception:
            return False

    def url(self, db=0):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def socket_url(self, db=0):
        return f"redis+socket://{self.socket}?virtual_host={db}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class Worker:
    """A posetrackd process; its log is kept in a file for assertions."""

    def __init__(self, broker, *args, env=None, binary=None, name=None,
                 wrapper=None):
        fd, self.logpath = tempfile.mkstemp(prefix="pt-worker-", suffix=".log")
        os.close(fd)
        self.name = name or f"pt{free_port()}@%h"
        cmd = list(wrapper or []) + [binary or POSETRACKD]
        if broker:
            cmd += ["-b", broker]
        cmd += ["-n", self.name, "-l", "info"] + list(args)
        # With --logfile the log lines go there, the banner to stdout.
        self.readypath = self.logpath
        if "--logfile" in args:
            self.readypath = args[list(args).index("--logfile") + 1]
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        e.update(env or {})
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=e)
        wait_for(lambda: "ready." in self._read(self.readypath) or
                 self.proc.poll() is not None, 30, what="posetrackd start")
        if self.proc.poll() is not None:
            raise AssertionError("posetrackd exited at start:\n" + self.text())

    @staticmethod
    def _read(path):
        try:
            with open(path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def text(self):
        return self._read(self.logpath)

    def alive(self):
        return self.proc.poll() is None

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the worker and returns its exit code; sanitizer reports
        make the test fail."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("posetrackd did not stop:\n" + self.text()[-3000:])
        self.log.close()
        text = self.text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:", "Sanitizer has encountered"):
            if marker in text:
                raise AssertionError("sanitizer report:\n" + text[-6000:])
        if self.proc.returncode not in (0, -9):
            # Shown with the failing assertion on the exit code.
            print(f"posetrackd exited with {self.proc.returncode}; log tail:\n"
                  + text[-2000:], flush=True)
        return self.proc.returncode

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


class PyWorker:
    """The real Python Celery worker running tests_app."""

    def __init__(self, broker, *args, name=None, loglevel="info",
                 without=("heartbeat", "gossip", "mingle"), env=None):
        fd, self.logpath = tempfile.mkstemp(prefix="pt-pyworker-", suffix=".log")
        os.close(fd)
        self.name = name or f"py{free_port()}@%h"
        self.broker = broker
        env = dict(os.environ, PT_BROKER=broker, PYTHONPATH=TESTS_APP_DIR,
                   **(env or {}))
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "tests_app", "worker", "-n", self.name,
             "-l", loglevel] + [f"--without-{w}" for w in without] + list(args),
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=TESTS_APP_DIR)
        ready = self._logged_ready if loglevel == "info" else self._answers_ping
        wait_for(lambda: ready() or self.proc.poll() is not None,
                 60, what="celery worker start")
        if self.proc.poll() is not None:
            raise AssertionError("celery worker exited:\n" + self.text())

    def text(self):
        with open(self.logpath, "r", errors="replace") as f:
            return f.read()

    def _logged_ready(self):
        return " ready." in self.text()

    def _answers_ping(self):
        """Readiness when the log level hides the ready line: a remote
        control ping to this node."""
        node = node_name(self.name)
        app = celery_app(self.broker)
        try:
            return bool(app.control.ping(destination=[node], timeout=0.5))
        finally:
            app.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def celery_app(broker, backend=None, **conf):
    from celery import Celery
    app = Celery("client", broker=broker, backend=backend or broker)
    app.conf.update(**conf)
    return app


def run_module_tests(module_globals):
    """Lets a test file run alone: python3 test_x.py"""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import runner
    sys.exit(runner.main([module_globals["__file__"]]))


def get_raises(result, exc_class, timeout=10):
    """Waits for a result whose .get() must raise exc_class; returns the
    exception."""
    try:
        value = result.get(timeout=timeout)
    except exc_class as e:
        return e
    raise AssertionError(f"expected {exc_class.__name__}, got {value!r}")


def send_echo_burst(app, n):
    """Sends n echo tasks over one producer; returns their ids."""
    with app.producer_or_acquire() as p:
        return [app.send_task("posetrackd.echo", args=[i], producer=p).id
                for i in range(n)]


class ResultPublishes:
    """Counts the result backend's PUBLISHes per task id, to prove each
    result is stored exactly once. Subscribe before sending."""

    def __init__(self, redis_client):
        self.pubsub = redis_client.pubsub()
        self.pubsub.psubscribe("celery-task-meta-*")
        self.pubsub.get_message(timeout=1)
        self.seen = {}

    def _take(self, timeout):
        import json
        m = self.pubsub.get_message(timeout=timeout)
        if m and m["type"] == "pmessage":
            tid = json.loads(m["data"])["task_id"]
            self.seen[tid] = self.seen.get(tid, 0) + 1

    def wait(self, n, timeout=120, settle=0.5):
        """Waits for n distinct ids, then a little longer so a duplicate
        would show; returns {id: count}."""
        deadline = time.monotonic() + timeout
        while len(self.seen) < n and time.monotonic() < deadline:
            self._take(1)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            self._take(0.1)
        return self.seen
