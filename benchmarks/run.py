"""Run the token benchmarks and print a markdown table with ratios to Agora's official python3 code.

    python benchmarks/run.py                  # 5 passes x 300 rounds x 100 tokens per row (~1 min)
    python benchmarks/run.py --passes 1 --rounds 50   # a quick look
    python benchmarks/run.py --json out.json  # also keep the merged numbers
    python benchmarks/run.py --plot           # also the docs' chart and table (benchmarks/charts.py)

Each pass runs ``pytest benchmarks/bench_tokens.py`` (pytest-benchmark, pedantic mode: warm-up
rounds, then timed rounds of a batch of tokens, each from a fresh uid / user id) with
``--benchmark-json`` to a temporary file. Passes alternate the order of the rows (forward, reverse,
…), so slow drift on a shared machine does not favour one side; for each row the table keeps the
best (lowest) median over the passes, since noise only ever adds time. Ratios are taken between
those medians: every number comes from this one invocation.

Each pass also times npm ``agora-token`` 2.0.6 in node (benchmarks/npm_bench.js, found through
AGORA_NPM_PEER_DIR or ``--npm-dir``) with the same workloads, inputs, rounds and batch, before the
pytest run on forward passes and after it on reverse ones; node times its own loop, so its start-up
is not counted. Without node or the package the table says so instead of showing the row.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import impls  # noqa: E402
import npm_peer  # noqa: E402
from machine_load import busy_seconds  # noqa: E402

GOALS = {  # (workload, implementation) -> minimal ratio to the official code
    ("rtc-007", "agora-token C, compat"): 6.0,
    ("rtc-007", "agora-token C, Pythonic"): 6.0,
    ("rtm-007", "agora-token C, compat"): 4.5,
    ("rtm-007", "agora-token C, Pythonic"): 4.5,
    ("rtc+rtm-007", "agora-token C, compat"): 5.0,
    ("rtc+rtm-007", "agora-token C, Pythonic"): 5.0,
    ("rtc-006", "agora-token C, compat"): 10.0,
    ("rtc-007", "agora-token pure, compat"): 1.3,
    ("rtc-006", "agora-token pure, compat"): 2.0,
}


def run_pass(index: int, args: argparse.Namespace, extra: list[str]) -> tuple[list[dict], float]:
    """One pytest run: its benchmarks, and the CPU (in cores) other processes used meanwhile."""
    fd, path = tempfile.mkstemp(prefix="agora-token-bench-", suffix=".json")
    os.close(fd)
    order = "forward" if index % 2 == 0 else "reverse"
    cmd = [
        sys.executable, "-m", "pytest", os.path.join(HERE, "bench_tokens.py"),
        "-q", "-p", "no:cacheprovider", "--benchmark-json", path,
        "--token-rounds", str(args.rounds), "--token-batch", str(args.batch),
        "--token-warmup", str(args.warmup), "--token-order", order, *extra,
    ]  # fmt: skip
    print(f"pass {index + 1}/{args.passes} ({order}): {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    try:
        busy0, own0, wall0 = busy_seconds(), os.times(), time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(HERE))
        own1 = os.times()
        own = (own1.children_user + own1.children_system) - (own0.children_user + own0.children_system)
        others = max(0.0, busy_seconds() - busy0 - own) / (time.perf_counter() - wall0)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-8000:] + proc.stderr[-4000:])
            raise SystemExit(f"pytest failed (exit {proc.returncode})")
        with open(path) as f:
            data = json.load(f)
    finally:
        os.unlink(path)
    print(f"  other processes used {others:.2f} CPU cores meanwhile", file=sys.stderr, flush=True)
    return data["benchmarks"], others


def run_npm(index: int, args: argparse.Namespace, directory: str) -> dict[str, float]:
    """The npm rows of one pass, in that pass's row order: workload -> median seconds per token."""
    workloads = list(impls.WORKLOADS)
    if index % 2:
        workloads.reverse()
    print(f"  npm agora-token in node: {' '.join(workloads)}", file=sys.stderr, flush=True)
    data = npm_peer.run(directory, workloads, args.rounds, args.batch, args.warmup)
    args.node_version = data["node"]
    return {w: r["median_s"] for w, r in data["results"].items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=5, help="whole-suite passes; best median per row (default 5)")
    parser.add_argument("--rounds", type=int, default=300, help="timed rounds per row and pass (default 300)")
    parser.add_argument("--batch", type=int, default=100, help="tokens per round (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up rounds per row (default 10)")
    parser.add_argument("--json", help="write the merged results (best median per row) to this file")
    parser.add_argument("--npm-dir", help="where npm agora-token 2.0.6 is installed (default: $AGORA_NPM_PEER_DIR)")
    parser.add_argument("--no-npm", action="store_true", help="leave the npm row out")
    parser.add_argument("--plot", action="store_true", help="also write the docs' chart and table (charts.py)")
    args, extra = parser.parse_known_args()  # anything else goes to pytest (e.g. -k 007)

    best: dict[tuple[str, str], float] = {}  # (workload, impl) -> best median seconds per token
    per_pass: dict[tuple[str, str], list[float]] = {}
    so_file = getattr(sys.modules.get("agora_token._fastpack"), "__file__", None)
    so_mtime = os.path.getmtime(so_file) if so_file else None
    background: list[float] = []
    npm_dir, npm_missing = npm_peer.locate(args.npm_dir) if not args.no_npm else (None, "left out (--no-npm)")
    args.node_version = None
    for i in range(args.passes):
        npm_times = run_npm(i, args, npm_dir) if npm_dir and i % 2 == 0 else {}
        benchmarks, others = run_pass(i, args, extra)
        background.append(others)
        if npm_dir and i % 2 == 1:
            npm_times = run_npm(i, args, npm_dir)
        for workload, per_token in npm_times.items():
            key = (workload, npm_peer.LABEL)
            per_pass.setdefault(key, []).append(per_token)
            best[key] = min(best.get(key, per_token), per_token)
        for b in benchmarks:
            info = b["extra_info"]
            key = (info["workload"], info["impl"])
            per_token = b["stats"]["median"] / info["batch"]
            per_pass.setdefault(key, []).append(per_token)
            best[key] = min(best.get(key, per_token), per_token)

    so = sys.modules.get("agora_token._fastpack")
    print()
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.machine()}, "
          f"{os.cpu_count()} CPUs; {args.passes} passes x {args.rounds} rounds x {args.batch} tokens per row; "
          f"best median per row over the passes. Other processes' CPU during each pass: "
          f"{', '.join(f'{x:.2f}' for x in background)} cores.")  # fmt: skip
    if so is not None:
        built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(so.__file__)))
        print(f"C kernel: {os.path.basename(so.__file__)}, built {built}")
        if os.path.getmtime(so.__file__) != so_mtime:
            print("WARNING: the C kernel was rebuilt during the run; rerun for numbers from one build")
    if npm_dir:
        print(f"npm agora-token {npm_peer.VERSION} in node {args.node_version} ({npm_dir}), timed in node")
    else:
        print(f"npm agora-token {npm_peer.VERSION}: not measured: {npm_missing}")
    print()
    print("| workload | implementation | median µs/token | tokens/s | × official python3 | × npm |")
    print("|---|---|---:|---:|---:|---:|")
    rows = []
    for workload in impls.WORKLOADS:
        official = best.get((workload, impls.OFFICIAL))
        npm = best.get((workload, npm_peer.LABEL))
        for impl in [*impls.IMPLS, npm_peer.LABEL]:
            t = best.get((workload, impl))
            if t is None:
                continue
            ratio = official / t if official else float("nan")
            to_npm = npm / t if npm else float("nan")
            rows.append({"workload": workload, "impl": impl, "median_us": t * 1e6, "tokens_per_s": 1 / t,
                         "ratio": ratio, "ratio_npm": to_npm,
                         "medians_us_per_pass": [x * 1e6 for x in per_pass[(workload, impl)]]})  # fmt: skip
            bold = "**" if impls._ours(impl) else ""
            npm_cell = f"{bold}{to_npm:.2f}×{bold}" if npm else "–"
            print(f"| {workload} | {impl} | {t * 1e6:.2f} | {1 / t:,.0f} | {bold}{ratio:.2f}×{bold} | {npm_cell} |")

    # The goals of the issue, checked on these numbers.
    print()
    ok_all = True
    for (workload, impl), goal in GOALS.items():
        if (workload, impl) not in best or (workload, impls.OFFICIAL) not in best:
            continue
        ratio = best[(workload, impls.OFFICIAL)] / best[(workload, impl)]
        ok = ratio >= goal
        ok_all &= ok
        name = impl.replace("agora-token ", "")
        print(f"- {workload} {name} vs official python3: {ratio:.2f}× (goal ≥ {goal}×) {'OK' if ok else 'MISSED'}")
    for workload in impls.WORKLOADS:
        npm = best.get((workload, npm_peer.LABEL))
        for impl in ("agora-token C, compat", "agora-token C, Pythonic"):
            t = best.get((workload, impl))
            if npm and t:
                name = impl.replace("agora-token ", "")
                print(f"- {workload} {name} vs npm: {npm / t:.2f}× (goal: faster) {'OK' if t < npm else 'MISSED'}")
    for workload in impls.WORKLOADS:
        for backend in ("C", "pure"):
            c, p = (
                best.get((workload, f"agora-token {backend}, compat")),
                best.get((workload, f"agora-token {backend}, Pythonic")),
            )
            if c and p:
                verdict = "OK" if p <= c else "within 2 % (noise)" if p <= c * 1.02 else "SLOWER"
                print(f"- {workload} {backend}: Pythonic {p * 1e6:.2f} µs vs compat {c * 1e6:.2f} µs "
                      f"(compat/Pythonic {c / p:.2f}×) {verdict}")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"passes": args.passes, "rounds": args.rounds, "batch": args.batch, "rows": rows}, f, indent=1)
    if args.plot:
        import charts  # matplotlib only when asked for

        meta = {"passes": args.passes, "rounds": args.rounds, "batch": args.batch, "node": args.node_version}
        for path in charts.speed(rows, meta):
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
