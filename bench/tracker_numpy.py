"""The tracker's per-frame algorithm (DESIGN §6) in Python with numpy, the
way a Python implementation of the tracker task does it: json.loads the
frame, map the landmarks through the calibration, extend the hands, test
each visible hand against every hold (bounding box first, then the
even-odd rule and the distance to the outline's edges with numpy), advance
the hold timers, json.dumps the session frame.

The wall's flattened outlines come from posetrackd's own SVG reader
(bench/tracker_core.c --outlines), so both sides test the same polygons;
only the per-frame work is compared.

    tracker_numpy.py OUTLINES.json ROUTE.json FRAMES.jsonl SECONDS"""
import datetime
import json
import sys
import time

import numpy as np


def iso_ms(t):
    d = datetime.datetime.fromtimestamp(round(t * 1000) / 1000,
                                        datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (round(t * 1000) % 1000)


class Hold:
    def __init__(self, hid, rings):
        self.id = hid
        self.rings = [np.array(r, dtype=float) for r in rings if len(r) >= 2]
        allp = np.concatenate(self.rings)
        self.min = allp.min(axis=0)
        self.max = allp.max(axis=0)
        # Edges of every ring, closed: starts (a) and ends (b).
        self.a = np.concatenate(self.rings)
        self.b = np.concatenate([np.roll(r, -1, axis=0) for r in self.rings])

    def touches(self, x, y, th):
        if (x < self.min[0] - th or y < self.min[1] - th or
                x > self.max[0] + th or y > self.max[1] + th):
            return False
        ax, ay, bx, by = self.a[:, 0], self.a[:, 1], self.b[:, 0], self.b[:, 1]
        cross = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = ax + (y - ay) * (bx - ax) / (by - ay)
        if np.count_nonzero(cross & (x < xs)) % 2 == 1:
            return True
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.clip(np.where(ll > 0, ((x - ax) * dx + (y - ay) * dy) / ll,
                                 0), 0, 1)
        d = np.hypot(ax + t * dx - x, ay + t * dy - y)
        return bool(d.min() <= th)


class Tracker:
    def __init__(self, wall, route, now, threshold=50.0, duration=2.0,
                 visibility=0.2):
        self.box = wall["box"]
        self.H = np.array(wall["H"], dtype=float)
        self.ext = wall["ext"]
        self.holds = [Hold(h["id"], h["rings"]) for h in wall["holds"]]
        by_id = {h.id: i for i, h in enumerate(self.holds)}
        self.route = route
        self.slots = [by_id.get(h["id"]) for h in route]
        self.threshold, self.duration, self.visibility = \
            threshold, duration, visibility
        self.start = now
        self.status, self.end = "started", None
        self.touched = [None] * len(route)
        self.touch_start = [None] * len(route)
        self.last = None

    def frame(self, text, now):
        d = json.loads(text)
        if not isinstance(d, dict) or d.get("type", "pose") != "pose":
            return None
        lms = d.get("landmarks") or d.get("pose") or d.get("data")
        if not isinstance(lms, list) or len(lms) != 33:
            return None
        a = np.array([[l["x"], l["y"], l.get("z", 0.0),
                       l.get("visibility", 1.0)] for l in lms], dtype=float)
        if not np.isfinite(a).all():
            return None
        xy1 = np.column_stack([a[:, 0], a[:, 1], np.ones(33)])
        m = xy1 @ self.H.T
        w = m[:, 2]
        ok = np.abs(w) > 1e-9
        with np.errstate(divide="ignore", invalid="ignore"):
            a[:, 0] = np.where(ok, m[:, 0] / w, 0)
            a[:, 1] = np.where(ok, m[:, 1] / w, 0)
        a[~ok, 3] = 0
        pose = np.vstack([a, self.hand(a, 0), self.hand(a, 1)])
        touching = [False] * len(self.route)
        for hand in (pose[33], pose[34]):
            if hand[3] <= self.visibility:
                continue
            x = self.box[0] + hand[0] * self.box[2]
            y = self.box[1] + hand[1] * self.box[3]
            for slot, k in enumerate(self.slots):
                if k is not None and not touching[slot] and \
                        self.holds[k].touches(x, y, self.threshold):
                    touching[slot] = True
        t = d["timestamp"] / 1000 if d.get("timestamp") is not None else now
        self.update(t, touching)
        return json.dumps({"session": self.session(), "pose": [
            {"x": round(p[0], 6), "y": round(p[1], 6), "z": round(p[2], 6),
             "visibility": round(p[3], 6)} for p in pose]})

    def hand(self, a, side):
        idx = [15 + side, 17 + side, 19 + side, 21 + side]
        pts = a[idx]
        palm = pts[:, :3].mean(axis=0)
        v = palm - a[13 + side, :3]
        n = np.linalg.norm(v)
        width = np.linalg.norm(pts[1, :3] - pts[2, :3])
        out = palm + v / n * width * self.ext / 100 if n > 0 else palm
        return np.append(out, pts[:, 3].min())

    def update(self, t, touching):
        if self.last is not None and t < self.last:
            self.touch_start = [None] * len(self.route)
        self.last = t
        changed = False
        for i, on in enumerate(touching):
            if not on:
                self.touch_start[i] = None
                continue
            if self.touch_start[i] is None:
                self.touch_start[i] = t
            if self.touched[i] is None and \
                    t - self.touch_start[i] >= self.duration - 1e-6:
                self.touched[i] = self.touch_start[i] + self.duration
                changed = True
        finish = [i for i, h in enumerate(self.route) if h["type"] == "finish"]
        if changed and self.status == "started" and finish and \
                all(self.touched[i] is not None for i in finish):
            self.status = "completed"
            self.end = max(self.touched[i] for i in finish)

    def session(self):
        return {"holds": [{"id": h["id"], "type": h["type"],
                           "status": "touched" if self.touched[i] is not None
                           else "untouched",
                           "time": iso_ms(self.touched[i])
                           if self.touched[i] is not None else None}
                          for i, h in enumerate(self.route)],
                "startTime": iso_ms(self.start),
                "endTime": iso_ms(self.end) if self.end else None,
                "status": self.status}


def main():
    wall = json.load(open(sys.argv[1]))
    route = json.load(open(sys.argv[2]))["data"]["holds"]
    frames = [l for l in open(sys.argv[3]) if l.strip()]
    seconds = float(sys.argv[4])
    tr = Tracker(wall, route, 1.8e9)
    done, t0 = 0, time.perf_counter()
    out = None
    while True:
        for f in frames:
            out = tr.frame(f, 1.8e9)
            done += 1
        if time.perf_counter() - t0 >= seconds:
            break
    dt = time.perf_counter() - t0
    print(json.dumps({"frames": done, "seconds": round(dt, 3),
                      "frames_per_s": round(done / dt), "last": out}))


if __name__ == "__main__":
    main()
