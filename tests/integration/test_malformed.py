"""Malformed input never stops the daemon: every kind of bad message,
interleaved with good ones, is logged and acked; bad messages whose id is
known get a FAILURE naming the problem; all good tasks complete."""
import base64
import json
import uuid

from support import wait_for


def envelope(body, headers, content_type="application/json",
             body_encoding="base64", encode=True, tag=None):
    if encode:
        body = base64.b64encode(body).decode()
    return json.dumps({
        "body": body,
        "content-encoding": "utf-8",
        "content-type": content_type,
        "headers": headers,
        "properties": {
            "correlation_id": headers.get("id") if isinstance(headers, dict) else None,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": "celery"},
            "priority": 0,
            "body_encoding": body_encoding,
            "delivery_tag": tag or str(uuid.uuid4()),
        },
    })


def v2_headers(task="posetrackd.echo", tid=None, **extra):
    h = {"lang": "py", "task": task, "id": tid or str(uuid.uuid4()),
         "retries": 0, "timelimit": [None, None], "eta": None, "expires": None}
    h.update(extra)
    return h


def good_body(i):
    return json.dumps([[i], {}, {"callbacks": None, "errbacks": None,
                                 "chain": None, "chord": None}]).encode()


def bad_messages():
    """(raw message, task id or None, expected exc_type or None)."""
    out = []

    def add(raw, tid=None, exc=None):
        out.append((raw, tid, exc))

    add("this is not json {")
    add("[1, 2, 3]")
    add("\"just a string\"")
    add(json.dumps({"body": 12, "headers": 5, "properties": []}))
    h = v2_headers()
    add(envelope("!!!not base64!!!", h, encode=False), h["id"], "DecodeError")
    h = v2_headers()
    add(envelope(b"not json at all", h), h["id"], "DecodeError")
    h = v2_headers()
    add(envelope(b"\xff\xfe[[], {}, {}]", h), h["id"], "DecodeError")
    h = v2_headers()
    add(envelope(b"[" * 100000, h), h["id"], "DecodeError")
    h = v2_headers()
    add(envelope(json.dumps({"a": 1}).encode(), h), h["id"], "InvalidTaskError")
    h = v2_headers()
    add(envelope(json.dumps([{"a": 1}, {}, {}]).encode(), h), h["id"],
        "InvalidTaskError")
    h = v2_headers()
    add(envelope(json.dumps([[], [], {}]).encode(), h), h["id"], "InvalidTaskError")
    h = v2_headers()
    add(envelope(json.dumps([[], {}]).encode(), h), h["id"], "InvalidTaskError")
    h = v2_headers()
    del h["id"]
    add(envelope(good_body(0), h))
    h = v2_headers(task=None)
    del h["task"]
    add(envelope(good_body(0), h), h["id"], "InvalidTaskError")
    h = v2_headers(task=12345)
    add(envelope(good_body(0), h), h["id"], "InvalidTaskError")
    h = v2_headers(eta=17)
    add(envelope(good_body(0), h), h["id"], "InvalidTaskError")
    h = v2_headers(eta="yesterday")
    add(envelope(good_body(0), h), h["id"], "InvalidTaskError")
    for ct in ("application/x-python-serialize", "application/x-yaml",
               "application/x-msgpack"):
        h = v2_headers()
        add(envelope(b"\x80\x04K\x01.", h, content_type=ct), h["id"],
            "ContentDisallowed")
    h = v2_headers(task="posetrackd.nope")
    add(envelope(good_body(0), h), h["id"], "NotRegistered")
    h = v2_headers()
    add(envelope(good_body(0), h, body_encoding="rot13"), h["id"], "DecodeError")
    # v1 with wrong types
    add(envelope(json.dumps({"task": "posetrackd.echo", "id": "v1-bad-args",
                             "args": {"x": 1}, "kwargs": {}}).encode(), {}),
        "v1-bad-args", "InvalidTaskError")
    return out


def test_malformed_messages_interleaved_with_good_ones(ctx):
    w = ctx.worker("--max-message-size", "65536")
    bad = bad_messages()
    good_ids = []
    for i, (raw, _, _) in enumerate(bad):
        h = v2_headers()
        good_ids.append((h["id"], i))
        ctx.r.lpush("celery", envelope(good_body(i), h))
        ctx.r.lpush("celery", raw)
    # An oversized message from the real client.
    app = ctx.app()
    big = app.send_task("posetrackd.echo", args=["x" * 100000])
    after = app.send_task("posetrackd.echo", args=["after"])
    assert after.get(timeout=20) == [["after"], {}]
    for tid, i in good_ids:
        raw = wait_for(lambda: ctx.r.get(f"celery-task-meta-{tid}"), 20,
                       what=f"good task {i}")
        meta = json.loads(raw)
        assert meta["status"] == "SUCCESS" and meta["result"] == [[i], {}]
    for raw, tid, exc in bad:
        if not tid:
            continue
        meta = json.loads(wait_for(lambda: ctx.r.get(f"celery-task-meta-{tid}"),
                                   20, what=f"failure for {exc}"))
        assert meta["status"] == "FAILURE", meta
        assert meta["result"]["exc_type"] == exc, (exc, meta)
        assert meta["result"]["exc_message"], meta
    meta = json.loads(wait_for(lambda: ctx.r.get(f"celery-task-meta-{big.id}"), 20))
    assert meta["status"] == "FAILURE"
    assert "exceeds" in meta["result"]["exc_message"][0]
    assert w.alive()
    assert ctx.r.hlen("unacked") == 0
    assert ctx.r.zcard("unacked_index") == 0
    assert ctx.r.llen("celery") == 0
    text = w.text()
    assert "Received invalid task message" in text
    assert "Refusing to deserialize untrusted content" in text
