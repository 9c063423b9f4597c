"""Benchmark: the tracker's compute core (frame text in, session frame
text out) on one core, posetrackd's C against the same algorithm in
Python with numpy (bench/tracker_numpy.py), in one run, on a generated
142-hold wall with a generated climb of its 8-hold route. Both must end
with the same session; prints frames/s of each and the ratio.

Targets (issue 4): 200,000 frames/s per core and 100x the Python figure."""
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import climbs  # noqa: E402
from support import ROOT  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "1"))
# The machine is shared: other tenants take time from any one run. The
# two sides run in turns, ROUNDS of SECONDS each, and the best round of
# each is its per-core figure (what a core does when it is ours); the
# medians are printed beside them.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
TARGET_FPS, TARGET_RATIO = 200_000, 100


def run(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                     text=True).stdout)


def main():
    store, info = climbs.make_store(cols=10, rows=15, holds=142, seed=11)
    lines, exp = climbs.climb(store, seed=3)
    frames = climbs.write_frames(lines)
    outlines = os.path.join(tempfile.mkdtemp(prefix="pt-bench-"), "outlines.json")
    with open(outlines, "w") as f:
        subprocess.run([os.path.join(ROOT, "build/bench/tracker_core"), store,
                        "--outlines"], stdout=f, check=True)
    cs, pys = [], []
    for _ in range(ROUNDS):
        cs.append(run([os.path.join(ROOT, "build/bench/tracker_core"), store,
                       frames, str(SECONDS)]))
        pys.append(run(["/usr/bin/python3",
                        os.path.join(ROOT, "bench/tracker_numpy.py"), outlines,
                        os.path.join(store, "routes", "1.json"), frames,
                        str(SECONDS)]))
    c, py = cs[0], pys[0]
    same = all(x["last"]["session"] == json.loads(y["last"])["session"]
               for x, y in zip(cs, pys))
    c_best = max(x["frames_per_s"] for x in cs)
    py_best = max(y["frames_per_s"] for y in pys)
    c_med = statistics.median(x["frames_per_s"] for x in cs)
    py_med = statistics.median(y["frames_per_s"] for y in pys)
    print(f"tracker compute core, {info['wall']['name']}: 142 holds, "
          f"{len(lines)}-frame climb of an 8-hold route, 33 landmarks, "
          f"{c['output_bytes']} B out per frame; best and median of "
          f"{ROUNDS} turns of {SECONDS:g} s each")
    print(f"  posetrackd (C, 1 core):   {c_best:>9,} frames/s (median "
          f"{c_med:,.0f}; target {TARGET_FPS:,})")
    print(f"  Python + numpy (1 core):  {py_best:>9,} frames/s (median "
          f"{py_med:,.0f})")
    print(f"  ratio: {c_best / py_best:.0f}x best to best, "
          f"{c_med / py_med:.0f}x median to median (target {TARGET_RATIO}x); "
          f"same final session: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
