"""The Python twin of posetrackd's built-in tasks, for differential tests
and the benchmark: `celery -A tests_app worker`."""
import os
import time

from celery import Celery

app = Celery("tests_app", broker=os.environ["PT_BROKER"],
             backend=os.environ.get("PT_BACKEND", os.environ["PT_BROKER"]))
app.conf.result_extended = os.environ.get("PT_RESULT_EXTENDED") == "1"


@app.task(name="posetrackd.echo")
def echo(*args, **kwargs):
    return [list(args), kwargs]


@app.task(name="posetrackd.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="posetrackd.fail")
def fail(message):
    raise ValueError(message)
