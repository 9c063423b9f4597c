"""The daemon around the worker: command line, config file, environment,
logs, pidfile, systemd notifications, exit codes."""
import os
import re
import signal
import socket
import subprocess
import tempfile

import support
from support import POSETRACKD, Worker, wait_for


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("CELERY_BROKER_URL", None)
    e.pop("CELERY_RESULT_BACKEND", None)
    e.update(env or {})
    p = subprocess.run([POSETRACKD, *args], capture_output=True, text=True,
                       timeout=20, env=e)
    return p.returncode, p.stdout, p.stderr


def test_help_and_version(ctx):
    rc, out, _ = run("--help")
    assert rc == 0
    for flag in ("--broker", "--result-backend", "--queues", "--hostname",
                 "--concurrency", "--prefetch-multiplier", "--acks-late",
                 "--visibility-timeout", "--time-limit", "--soft-time-limit",
                 "--track-started", "--result-expires", "--result-extended",
                 "--loglevel", "--logfile", "--pidfile", "--config", "--version",
                 "--task-events"):
        assert flag in out, flag
    rc, out, _ = run("--version")
    assert rc == 0 and re.match(r"posetrackd \d+\.\d+\.\d+", out)


def test_bad_flags_and_urls_exit_with_one_clear_line(ctx):
    cases = [
        (["--no-such-flag"], "unknown"),
        (["-c", "zero"], "--concurrency"),
        (["-c", "0"], "--concurrency"),
        (["-b", "amqp://nowhere"], "--broker"),
        (["-b", "redis://host:99999/0"], "invalid port"),
        (["-b", "redis://host/notadb"], "invalid database"),
        (["--result-backend", "mongodb://x"], "--result-backend"),
        (["-l", "chatty"], "--loglevel"),
        (["--visibility-timeout", "-5"], "--visibility-timeout"),
        (["--config", "/nonexistent/posetrackd.conf"], "--config"),
        (["stray"], "unexpected argument"),
    ]
    for args, needle in cases:
        rc, out, err = run(*args)
        assert rc != 0, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (args, err)


def test_config_file_and_environment(ctx):
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(f"# posetrackd settings\nbroker = {ctx.broker}\n"
                "queues = alpha, beta\nconcurrency = 7\nresult_extended = yes\n")
        path = f.name
    w = Worker(ctx.broker, "--config", path, "-c", "3")
    ctx._workers.append(w)
    text = w.text()
    assert "concurrency: 3" in text, "the command line overrides the file"
    assert ".> alpha" in text and ".> beta" in text
    app = ctx.app()
    r = app.send_task("posetrackd.echo", args=[1], queue="beta")
    assert r.get(timeout=10) == [[1], {}]
    with open(path, "w") as f:
        f.write("concurrency = lots\n")
    rc, _, err = run("--config", path)
    assert rc != 0 and ":1:" in err
    rc, _, err = run(env={"CELERY_BROKER_URL": "http://x"})
    assert rc != 0 and "CELERY_BROKER_URL" in err


def test_environment_broker_url(ctx):
    w = Worker(None, env={"CELERY_BROKER_URL": ctx.broker})
    ctx._workers.append(w)
    assert ctx.app().send_task("posetrackd.echo").get(timeout=10) == [[], {}]


def test_logs_look_like_celery(ctx):
    w = ctx.worker()
    r = ctx.app().send_task("posetrackd.echo", args=[1])
    r.get(timeout=10)
    text = w.text()
    pat = (r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: INFO/MainProcess\] "
           r"Task posetrackd\.echo\[" + re.escape(r.id) + r"\] received$")
    assert re.search(pat, text, re.M), text
    assert re.search(r"Task posetrackd\.echo\[" + re.escape(r.id) +
                     r"\] succeeded in \d+\.\d+s: \[\[1\], \{\}\]", text)
    for needle in ("transport:", "results:", "concurrency:", "[queues]",
                   "[tasks]", ". posetrackd.echo", ". posetrackd.sleep",
                   ". posetrackd.fail"):
        assert needle in text, needle


def test_logfile_and_pidfile(ctx):
    d = tempfile.mkdtemp()
    log, pid = os.path.join(d, "w.log"), os.path.join(d, "w.pid")
    w = ctx.worker("--logfile", log, "--pidfile", pid)
    wait_for(lambda: os.path.exists(pid), 5)
    assert int(open(pid).read()) == w.proc.pid
    rc, _, err = run("-b", ctx.broker, "--pidfile", pid)
    assert rc != 0 and "running" in err + open(log).read()
    ctx.app().send_task("posetrackd.echo").get(timeout=10)
    assert w.stop() == 0
    assert not os.path.exists(pid)
    assert "succeeded" in open(log).read()


def test_systemd_notifications(ctx):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    w = ctx.worker(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    msgs = [s.recv(4096).decode()]
    assert "READY=1" in msgs[0]
    msgs.append(s.recv(4096).decode())
    assert "WATCHDOG=1" in msgs[-1]
    w.send(signal.SIGTERM)
    while "STOPPING=1" not in msgs[-1]:
        msgs.append(s.recv(4096).decode())
    assert w.stop() == 0


def test_unreachable_redis_is_retried_until_it_comes_back(ctx):
    # A Redis of its own: restarting the shared one would leave dead pooled
    # connections in this process's Celery clients.
    redis = support.Redis()
    try:
        w = Worker(redis.url())
        app = support.celery_app(redis.url())
        assert app.send_task("posetrackd.echo", args=[1]).get(timeout=10) == [[1], {}]
        port = redis.port
        redis.stop()
        wait_for(lambda: "lost the Redis connection" in w.text(), 10)
        redis.port = port
        redis.start()
        r = app.send_task("posetrackd.echo", args=[2])
        assert r.get(timeout=20) == [[2], {}]
        assert w.alive()
        assert w.stop() == 0
        app.close()
    finally:
        redis.stop()
