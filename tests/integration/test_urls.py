"""Broker and backend URLs: another database, a Unix socket, a password,
a backend on another database, and no backend at all."""
import json
import time

import support


def test_database_number_in_the_url(ctx):
    ctx.worker(broker=ctx.redis.url(3))
    app = support.celery_app(ctx.redis.url(3))
    try:
        assert app.send_task("posetrackd.echo", args=[3]).get(timeout=10) == [[3], {}]
    finally:
        app.close()
    assert ctx.r.dbsize() == 0, "nothing may land in database 0"


def test_unix_socket_broker(ctx):
    url = ctx.redis.socket_url(1)
    w = ctx.worker(broker=url)
    app = support.celery_app(url)
    try:
        assert app.send_task("posetrackd.echo", args=["sock"]).get(timeout=10) == [["sock"], {}]
    finally:
        app.close()
    assert "redis+socket://" in w.text()


def test_password_protected_redis(ctx):
    locked = support.Redis(password="s3cr%t")
    try:
        url = f"redis://:s3cr%25t@127.0.0.1:{locked.port}/0"
        w = support.Worker(url)
        app = support.celery_app(url)
        try:
            assert app.send_task("posetrackd.echo", args=[1]).get(timeout=10) == [[1], {}]
        finally:
            app.close()
        assert "s3cr" not in w.text(), "the password must not be logged"
        assert w.stop() == 0
        bad = support.Worker(f"redis://:wrong@127.0.0.1:{locked.port}/0")
        support.wait_for(lambda: "refused" in bad.text() or "AUTH" in bad.text()
                         or "WRONGPASS" in bad.text(), 10, what="auth error")
        assert bad.stop() == 0
    finally:
        locked.stop()


def test_backend_on_another_database(ctx):
    ctx.worker("--result-backend", ctx.redis.url(2))
    app = support.celery_app(ctx.broker, backend=ctx.redis.url(2))
    try:
        r = app.send_task("posetrackd.echo", args=[2])
        assert r.get(timeout=10) == [[2], {}]
    finally:
        app.close()
    assert ctx.r.get(f"celery-task-meta-{r.id}") is None


def test_disabled_backend_stores_nothing(ctx):
    w = ctx.worker("--result-backend", "disabled")
    app = ctx.app()
    r = app.send_task("posetrackd.echo", args=[1])
    support.wait_for(lambda: "succeeded" in w.text(), 10)
    time.sleep(0.2)
    assert ctx.r.get(f"celery-task-meta-{r.id}") is None
    assert "results:     disabled" in w.text()
