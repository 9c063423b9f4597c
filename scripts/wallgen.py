#!/usr/bin/python3
"""wallgen: writes a wall store (DIR/walls/<id>.json, DIR/routes/<id>.json,
DIR/svg_files/<name>.svg) with a generated climbing wall of the kind the
Django app stores: an SVG in millimetres whose holds are paths with curves,
circles, ellipses, rects and polygons (some inside transformed groups), a
camera calibration computed from four point pairs like the app's manual
calibration, and a route from the bottom of the wall to the top.

Used by `make demo`, the end-to-end tests and the benchmarks:

    scripts/wallgen.py DIR [--wall-id 1] [--route-id 1] [--cols 6]
                       [--rows 8] [--route-holds 8] [--seed 1] [--holds N]
"""
import argparse
import json
import math
import os
import random

WIDTH_MM, HEIGHT_MM = 2500, 3330
# The camera's view of the wall: four image points and the wall points they
# show, as a manual calibration records them (normalized coordinates).
IMAGE_POINTS = [(0.18, 0.15), (0.85, 0.16), (0.84, 0.65), (0.22, 0.64)]
WALL_POINTS = [(0.14, 0.07), (0.87, 0.07), (0.92, 0.77), (0.08, 0.77)]


def solve(a, b):
    """Gaussian elimination with partial pivoting: a x = b."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def homography(src, dst):
    """The 3x3 H with dst ~ H src, h33 = 1 (the four-point DLT)."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.append(v)
    h = solve(a, b) + [1.0]
    return [h[0:3], h[3:6], h[6:9]]


def blob_path(cx, cy, r, rng):
    """A closed organic outline of four cubic curves, like the real holds."""
    pts = []
    for k in range(4):
        ang = k * math.pi / 2
        rr = r * rng.uniform(0.8, 1.15)
        pts.append((cx + rr * math.cos(ang), cy + rr * math.sin(ang)))
    d = "M %.3f,%.3f" % pts[0]
    for k in range(4):
        (x0, y0), (x1, y1) = pts[k], pts[(k + 1) % 4]
        t = 0.55
        c1 = (x0 - t * (y0 - cy) * 1.0, y0 + t * (x0 - cx))
        c2 = (x1 + t * (y1 - cy), y1 - t * (x1 - cx))
        d += " C %.3f,%.3f %.3f,%.3f %.3f,%.3f" % (c1 + c2 + (x1, y1))
    return d + " Z"


def hold_element(i, hid, cx, cy, r, rng):
    kind = i % 6
    cls = 'class="hold" id="%s"' % hid
    if kind == 0 or kind == 5:
        return '<path %s d="%s"/>' % (cls, blob_path(cx, cy, r, rng))
    if kind == 1:
        return '<circle %s cx="%.2f" cy="%.2f" r="%.2f"/>' % (cls, cx, cy, r)
    if kind == 2:
        return '<ellipse %s cx="%.2f" cy="%.2f" rx="%.2f" ry="%.2f"/>' % (
            cls, cx, cy, r * 1.2, r * 0.8)
    if kind == 3:
        return ('<rect %s x="%.2f" y="%.2f" width="%.2f" height="%.2f" '
                'rx="20"/>' % (cls, cx - r, cy - r * 0.7, 2 * r, 1.4 * r))
    pts = " ".join("%.2f,%.2f" % (cx + r * math.cos(a), cy + r * math.sin(a))
                   for a in [k * 2 * math.pi / 6 for k in range(6)])
    return '<polygon %s points="%s"/>' % (cls, pts)


def make_wall(cols, rows, rng, limit=None):
    """Holds on a jittered grid, at most limit of them; returns (svg text,
    [(id, cx, cy)])."""
    holds, elems = [], []
    dx, dy = WIDTH_MM / (cols + 1), HEIGHT_MM / (rows + 1)
    n = 0
    for row in range(rows):
        for col in range(cols):
            if limit is not None and n >= limit:
                break
            cx = dx * (col + 1) + rng.uniform(-0.15, 0.15) * dx
            cy = dy * (row + 1) + rng.uniform(-0.15, 0.15) * dy
            r = rng.uniform(55, 85)
            hid = "hold_%d" % n
            holds.append((hid, cx, cy))
            # Every seventh hold is drawn at the origin inside nested
            # transformed groups, as editors write a moved, turned shape.
            if n % 7 == 6:
                el = ('<g transform="translate(%.2f %.2f)"><g transform='
                      '"rotate(25) scale(1.1)">%s</g></g>' % (
                          cx, cy, hold_element(n, hid, 0, 0, r / 1.1, rng)))
            else:
                el = hold_element(n, hid, cx, cy, r, rng)
            elems.append("    " + el)
            n += 1
    svg = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%dmm" '
           'height="%dmm" viewBox="0 0 %d %d">' % (WIDTH_MM, HEIGHT_MM,
                                                 WIDTH_MM, HEIGHT_MM),
           '  <defs><circle id="not_a_hold" cx="5" cy="5" r="5"/></defs>',
           '  <rect id="wall_outline" x="0" y="0" width="%d" height="%d" '
           'fill="none"/>' % (WIDTH_MM, HEIGHT_MM),
           '  <g id="holds">'] + elems + ['  </g>', '</svg>']
    return "\n".join(svg) + "\n", holds


def make_route(holds, count, rng):
    """Two start holds low on the wall, then upward, one finish at the top."""
    by_height = sorted(holds, key=lambda h: -h[2])
    start = sorted(by_height[:2], key=lambda h: h[1])
    chosen = [start[0], start[1]]
    rest = [h for h in by_height[2:]]
    span = len(rest) / max(count - 2, 1)
    for k in range(count - 2):
        band = rest[int(k * span):int((k + 1) * span)] or rest[-1:]
        chosen.append(rng.choice(band))
    out = []
    for i, (hid, _, _) in enumerate(chosen):
        t = "start" if i < 2 else "finish" if i == len(chosen) - 1 else "normal"
        out.append({"id": hid, "type": t})
    return out


def write_store(root, wall_id=1, route_id=1, cols=6, rows=8, route_holds=8,
                seed=1, name="Generated wall", holds=None):
    rng = random.Random(seed)
    svg, holds = make_wall(cols, rows, rng, holds)
    for sub in ("walls", "routes", "svg_files"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    svg_rel = "svg_files/wall_%d.svg" % wall_id
    with open(os.path.join(root, svg_rel), "w") as f:
        f.write(svg)
    wall = {"name": name, "svg_file": svg_rel,
            "perspective_transform": homography(IMAGE_POINTS, WALL_POINTS),
            "hand_extension_percent": 20}
    with open(os.path.join(root, "walls", "%d.json" % wall_id), "w") as f:
        json.dump(wall, f, indent=1)
    route = make_route(holds, route_holds, rng)
    with open(os.path.join(root, "routes", "%d.json" % route_id), "w") as f:
        json.dump({"name": "Generated route", "data": {"holds": route}}, f,
                  indent=1)
    return {"holds": holds, "route": route, "wall": wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--wall-id", type=int, default=1)
    ap.add_argument("--route-id", type=int, default=1)
    ap.add_argument("--cols", type=int, default=6)
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--route-holds", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--holds", type=int, help="at most this many holds")
    a = ap.parse_args()
    info = write_store(a.dir, a.wall_id, a.route_id, a.cols, a.rows,
                       a.route_holds, a.seed, holds=a.holds)
    print("%s: wall %d (%d holds), route %d (%d holds)" % (
        a.dir, a.wall_id, len(info["holds"]), a.route_id, len(info["route"])))


if __name__ == "__main__":
    main()
