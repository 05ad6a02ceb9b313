"""The benchmarks' pictures and tables for the documentation, in ``docs/assets/benchmarks/``.

A benchmark run with ``--plot`` hands its numbers to this module, which writes three files per result:
``NAME.json`` (the numbers and the machine they were measured on), ``NAME.md`` (the caption and the
table, which the docs include) and, where there is a chart, ``NAME.svg`` (drawn with matplotlib, the
``bench`` extra). Nothing in the docs is drawn or typed by hand, so re-running the benchmarks
regenerates every number and picture:

    python benchmarks/run.py --plot                 # speed.svg, speed-rtc.svg, speed.md (µs per token)
    python benchmarks/threads.py --plot             # threads-gil.json; threads.svg, threads.md
    .matrix/3.13t/bin/python benchmarks/threads.py --plot   # the free-threaded half of threads.svg
    python benchmarks/server_load.py --plot LABEL   # one row of server.svg, server.md
    python benchmarks/charts.py capture memory -- python benchmarks/memory.py
    python benchmarks/charts.py redraw              # every chart again from the .json files

``capture NAME -- COMMAND`` runs a benchmark that prints a Markdown table and keeps its output, under
a caption naming the machine and the date, as ``NAME.md``. Every caption states the machine and the
date; the chart repeats them under its title.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "assets" / "benchmarks"

# One palette for every chart: ours in indigo (the docs' colour), the peers in greys and orange.
OURS_C, OURS_PURE, OFFICIAL, OTHER, NODE = "#3f51b5", "#9fa8da", "#616161", "#9e9e9e", "#ef6c00"


# --------------------------------------------------------------------------------------------------
# The machine and the files


def cpu_model() -> str:
    """The processor's marketing name (Linux /proc/cpuinfo, else what platform knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def python_name() -> str:
    """``CPython 3.11.7``, with ``free-threaded`` for a build without the GIL."""
    name = f"{platform.python_implementation()} {platform.python_version()}"
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        name += " free-threaded"
    return name


def machine() -> dict[str, Any]:
    """What a reader needs to judge a number: processor, cores, system, Python, and the day."""
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.machine()}",
        "python": python_name(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
    }


def describe(m: dict[str, Any]) -> str:
    return f"{m['cpu']}, {m['cpus']} CPUs, {m['system']}, {m['python']}; {m['date']}"


def save(name: str, data: dict[str, Any], out: Path = OUT) -> Path:
    """``NAME.json``: the result and the machine it was measured on (added if absent)."""
    out.mkdir(parents=True, exist_ok=True)
    data.setdefault("machine", machine())
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load(name: str, out: Path = OUT) -> Optional[dict[str, Any]]:
    path = out / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_fragment(name: str, text: str, out: Path = OUT) -> Path:
    """``NAME.md``, included by the docs (pymdownx.snippets)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.md"
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path


def _pyplot() -> Any:
    """matplotlib's pyplot without a display, set for SVGs that do not change when nothing changed."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("drawing the charts needs matplotlib: pip install '.[bench]'") from None
    matplotlib.use("Agg")
    matplotlib.rcParams.update({
        "svg.hashsalt": "agora-token",  # stable element ids
        "svg.fonttype": "none",  # text stays text: small files, selectable, the page's font
        "font.family": "sans-serif",
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })  # fmt: skip
    import matplotlib.pyplot as plt

    return plt


def _save_svg(fig: Any, name: str, out: Path) -> Path:
    path = out / f"{name}.svg"
    # No date or tool version in the file: the SVG changes only when the numbers do.
    fig.savefig(path, format="svg", bbox_inches="tight", facecolor="white", metadata={"Date": None, "Creator": None})
    _pyplot().close(fig)
    return path


def _title(fig: Any, title: str, m: dict[str, Any]) -> None:
    """The title, and under it the machine and the date (the figure uses the constrained layout)."""
    fig.suptitle(f"{title}\n{describe(m)}", x=0.02, ha="left", fontsize=10.5, linespacing=1.6)


# --------------------------------------------------------------------------------------------------
# Speed: µs per token (benchmarks/run.py)

#: run.py's implementation labels -> (label in the chart, colour).
SPEED_LABELS = {
    "agora-token C, Pythonic": ("agora-token, C kernel (Pythonic API)", OURS_C),
    "agora-token C, compat": ("agora-token, C kernel (drop-in API)", OURS_C),
    "agora-token pure, Pythonic": ("agora-token, pure Python (Pythonic API)", OURS_PURE),
    "agora-token pure, compat": ("agora-token, pure Python (drop-in API)", OURS_PURE),
    "agoraiotools 0.3.4 (official python3)": ("Agora's python3 code (agoraiotools 0.3.4)", OFFICIAL),
    "agora-token-builder 1.0.0": ("agora-token-builder 1.0.0 (006 only)", OTHER),
    "npm agora-token 2.0.6 (node)": ("Agora's Node code (npm agora-token 2.0.6, in node)", NODE),
}
WORKLOAD_TITLES = {
    "rtc-007": "007 RTC token",
    "rtm-007": "007 RTM token",
    "rtc+rtm-007": "007 RTC + RTM token",
    "rtc-006": "006 RTC token",
}


def speed(rows: list[dict[str, Any]], meta: dict[str, Any], out: Path = OUT) -> list[Path]:
    """run.py's rows (workload, impl, median_us, tokens_per_s, ratio, ratio_npm): the chart and the table."""
    # NaN (a ratio without its reference row) is not JSON: None instead.
    rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in rows]
    data = {"rows": rows, "meta": meta}
    paths = [save("speed", data, out)]
    paths += draw_speed(data, out)
    return paths


def speed_caption(m: dict[str, Any], meta: dict[str, Any]) -> str:
    node = f", node {meta['node']}" if meta.get("node") else ""
    return (
        f"Median time per token, each from a fresh uid, best of {meta['passes']} "
        f"pass{'es' if meta['passes'] != 1 else ''} of {meta['rounds']} rounds "
        f"x {meta['batch']} tokens (`benchmarks/run.py`). Measured on {describe(m)}{node}."
    )


def draw_speed(data: dict[str, Any], out: Path = OUT) -> list[Path]:
    rows, meta, m = data["rows"], data["meta"], data["machine"]
    table = ["| workload | implementation | µs per token | tokens/s | × Agora's python3 | × Agora's Node |",
             "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        label = SPEED_LABELS.get(r["impl"], (r["impl"], OTHER))[0]
        node = "–" if r.get("ratio_npm") is None else f"{r['ratio_npm']:.2f}×"
        ratio = "–" if r.get("ratio") is None else f"{r['ratio']:.2f}×"
        table.append(f"| {WORKLOAD_TITLES.get(r['workload'], r['workload'])} | {label} | {r['median_us']:.2f} "
                     f"| {r['tokens_per_s']:,.0f} | {ratio} | {node} |")  # fmt: skip
    caption = speed_caption(m, meta)
    paths = [write_fragment("speed", caption + "\n\n" + "\n".join(table), out)]
    paths.append(write_fragment("speed-caption", caption, out))

    plt = _pyplot()
    workloads = [w for w in WORKLOAD_TITLES if any(r["workload"] == w for r in rows)]
    heights = [sum(r["workload"] == w for r in rows) for w in workloads]
    fig, axes = plt.subplots(
        len(workloads), 1, figsize=(8, 0.3 * sum(heights) + 0.7 * len(workloads) + 0.8),
        gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained",
    )  # fmt: skip
    for ax, workload in zip(axes[:, 0], workloads):
        mine = [r for r in rows if r["workload"] == workload]
        labels = [SPEED_LABELS.get(r["impl"], (r["impl"], OTHER)) for r in mine]
        values = [r["median_us"] for r in mine]
        y = range(len(mine))
        ax.barh(list(y), values, color=[c for _, c in labels], height=0.7)
        ax.set_yticks(list(y), [text for text, _ in labels], fontsize=9)
        ax.invert_yaxis()
        ax.set_title(WORKLOAD_TITLES[workload], loc="left", fontsize=10, fontweight="bold")
        top = max(values)
        ax.set_xlim(0, top * 1.18)
        for yi, value in zip(y, values):
            ax.text(value + top * 0.01, yi, f"{value:.1f} µs" if value >= 10 else f"{value:.2f} µs",
                    va="center", fontsize=8.5)  # fmt: skip
        ax.tick_params(axis="x", labelsize=8)
    axes[-1, 0].set_xlabel("µs per token (shorter is faster)")
    _title(fig, "Microseconds per token", m)
    paths.append(_save_svg(fig, "speed", out))
    paths.append(_headline(rows, m, out))
    return paths


#: The headline chart (README, the docs' home page): one workload, one row per implementation.
HEADLINE = (
    "rtc-007",
    ["agora-token C, Pythonic", "agora-token pure, Pythonic", "agoraiotools 0.3.4 (official python3)",
     "npm agora-token 2.0.6 (node)"],
)  # fmt: skip
HEADLINE_LABELS = {
    "agora-token C, Pythonic": "agora-token (C kernel)",
    "agora-token pure, Pythonic": "agora-token (pure Python)",
    "agoraiotools 0.3.4 (official python3)": "Agora's python3 code",
    "npm agora-token 2.0.6 (node)": "Agora's Node code (in node)",
}


def _headline(rows: list[dict[str, Any]], m: dict[str, Any], out: Path) -> Path:
    workload, impls = HEADLINE
    mine = [r for i in impls for r in rows if r["workload"] == workload and r["impl"] == i]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(mine) + 1.3), layout="constrained")
    values = [r["median_us"] for r in mine]
    y = list(range(len(mine)))
    ax.barh(y, values, color=[SPEED_LABELS[r["impl"]][1] for r in mine], height=0.65)
    ax.set_yticks(y, [HEADLINE_LABELS[r["impl"]] for r in mine], fontsize=10)
    ax.invert_yaxis()
    top = max(values)
    ax.set_xlim(0, top * 1.2)
    for yi, value in zip(y, values):
        ax.text(value + top * 0.01, yi, f"{value:.1f} µs", va="center", fontsize=9.5)
    ax.set_xlabel("µs per 007 RTC token (shorter is faster)")
    _title(fig, "One 007 RTC token, built from a fresh uid", m)
    return _save_svg(fig, "speed-rtc", out)


# --------------------------------------------------------------------------------------------------
# Threads: tokens/s with 1 and 2 threads, on the GIL build and the free-threaded one (threads.py)

THREAD_BUILDS = {"threads-gil": "GIL build", "threads-free-threaded": "free-threaded build"}


def threads(result: dict[str, Any], out: Path = OUT) -> list[Path]:
    """One interpreter's threads.py result (rows: path, one, two, ratio; ceiling): saved, then both drawn."""
    name = "threads-free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "threads-gil"
    paths = [save(name, result, out)]
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # e.g. a free-threaded venv: its half is saved, a run with matplotlib draws both
        print("matplotlib is not installed here: saved the numbers; `python benchmarks/charts.py redraw` "
              "draws the chart", file=sys.stderr)  # fmt: skip
        return paths
    return paths + draw_threads(out)


def draw_threads(out: Path = OUT) -> list[Path]:
    results = {name: data for name in THREAD_BUILDS if (data := load(name, out)) is not None}
    if not results:
        return []
    parts = []
    for name, data in results.items():
        m = data["machine"]
        runs = f"{data['repeats']} run{'s' if data['repeats'] != 1 else ''}"
        parts.append(f"**{m['python']}** ({THREAD_BUILDS[name]}): tokens per second with 1 and 2 threads, best of "
                     f"{runs} of {data['duration']:g} s each (`benchmarks/threads.py`). "
                     f"Measured on {describe(m)}.")  # fmt: skip
        parts.append("")
        parts.append("| 007 RTC token path | 1 thread, tokens/s | 2 threads, tokens/s | 2 threads / 1 thread |")
        parts.append("|---|---:|---:|---:|")
        for r in data["rows"]:
            parts.append(f"| {r['path']} | {r['one']:,.0f} | {r['two']:,.0f} | {r['two'] / r['one']:.2f}× |")
        parts.append("")
    paths = [write_fragment("threads", "\n".join(parts), out)]

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.6 * len(results), 3.9), squeeze=False, sharey=True,
                             layout="constrained")  # fmt: skip
    for ax, (name, data) in zip(axes[0], results.items()):
        rows = data["rows"]
        labels = [_short_path(r["path"]) for r in rows]
        x = range(len(rows))
        ones = [r["one"] / 1000 for r in rows]
        twos = [r["two"] / 1000 for r in rows]
        ax.bar([i - 0.2 for i in x], ones, width=0.38, color=OURS_PURE, label="1 thread (or process)")
        ax.bar([i + 0.2 for i in x], twos, width=0.38, color=OURS_C, label="2 threads (or processes)")
        for i, r in zip(x, rows):
            ax.text(i + 0.2, r["two"] / 1000, f"{r['two'] / r['one']:.2f}×", ha="center", va="bottom", fontsize=8.5)
        ax.set_xticks(list(x), labels, fontsize=8.5)
        ax.set_title(f"{data['machine']['python']} ({THREAD_BUILDS[name]})", loc="left", fontsize=10)
    axes[0, 0].set_ylabel("thousand tokens per second")
    axes[0, 0].legend(loc="upper left", fontsize=8, frameon=False)
    first = next(iter(results.values()))["machine"]
    _title(fig, "007 RTC tokens per second: one thread and two", first)
    paths.append(_save_svg(fig, "threads", out))
    return paths


def _short_path(path: str) -> str:
    if path.startswith("machine ceiling"):
        return "C kernel,\nprocesses"
    return path.split(" (")[0].replace(" backend, ", "\n").replace("C kernel", "C kernel\nalone")


# --------------------------------------------------------------------------------------------------
# The token server: requests/s and CPU per request (server_load.py)


def server(row: dict[str, Any], out: Path = OUT) -> list[Path]:
    """Adds one server_load.py run (label, requests_per_s, server_cpu_us, p50_ms, p99_ms, connections,
    requests) to ``server.json``, replacing an earlier row of the same label, and draws them all."""
    data = load("server", out) or {"rows": []}
    data["rows"] = [r for r in data["rows"] if r["label"] != row["label"]] + [row]
    data["machine"] = machine()
    save("server", data, out)
    return [out / "server.json", *draw_server(data, out)]


def draw_server(data: dict[str, Any], out: Path = OUT) -> list[Path]:
    rows, m = data["rows"], data["machine"]
    if not rows:
        return []
    table = ["| server | requests/s | p50 | p99 | server CPU per request |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        cpu = "–" if r.get("server_cpu_us") is None else f"{r['server_cpu_us']:.0f} µs"
        table.append(f"| {r['label']} | {r['requests_per_s']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms "
                     f"| {cpu} |")  # fmt: skip
    first = rows[0]
    caption = (
        f"`agora-token serve` under `benchmarks/server_load.py`: {first['requests']:,} requests over "
        f"{first['connections']} keep-alive connections from the same machine, every answer checked to be a valid "
        f"token for its request. Measured on {describe(m)}."
    )
    paths = [write_fragment("server", caption + "\n\n" + "\n".join(table), out)]

    plt = _pyplot()
    fig, (rate, cpu_ax) = plt.subplots(1, 2, figsize=(9, 0.45 * len(rows) + 1.6), sharey=True, layout="constrained")
    y = list(range(len(rows)))
    labels = [r["label"] for r in rows]
    rate.barh(y, [r["requests_per_s"] for r in rows], color=OURS_C, height=0.6)
    rate.set_yticks(y, labels, fontsize=9)
    rate.invert_yaxis()
    rate.set_xlabel("requests per second (longer is better)")
    cpu_values = [r.get("server_cpu_us") or 0 for r in rows]
    cpu_ax.barh(y, cpu_values, color=OURS_PURE, height=0.6)
    cpu_ax.set_xlabel("server CPU µs per request (shorter is better)")
    for ax, values, fmt in ((rate, [r["requests_per_s"] for r in rows], "{:,.0f}"), (cpu_ax, cpu_values, "{:.0f} µs")):
        top = max(values) or 1
        ax.set_xlim(0, top * 1.25)
        for yi, value in zip(y, values):
            ax.text(value + top * 0.01, yi, fmt.format(value), va="center", fontsize=8.5)
    _title(fig, "Token server: throughput and CPU per request", m)
    paths.append(_save_svg(fig, "server", out))
    return paths


# --------------------------------------------------------------------------------------------------
# Tables only: a benchmark's own Markdown output under a caption


def capture(name: str, command: list[str], what: str, out: Path = OUT) -> Path:
    """Runs ``command`` (a benchmark that prints a Markdown table) and keeps its output as ``NAME.md``."""
    print(f"running: {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} exited with {done.returncode}; nothing written")
    sys.stdout.write(done.stdout)
    # The interpreter as "python", whatever its path; a goal of the project is not a user's fact.
    shown = " ".join("python" if Path(part).name.startswith("python") else part for part in command)
    body = "\n".join(line for line in done.stdout.strip().splitlines() if "(goal" not in line)
    caption = f"{what} (`{shown}`). Measured on {describe(machine())}."
    return write_fragment(name, caption + "\n\n" + body, out)


CAPTURED = {
    "memory": "Resident memory while building tokens on each backend, each in a fresh process",
    "dropin": "Each drop-in builder against the Pythonic call that builds the same token",
    "batch": "Many tokens in one call against one call per token",
}


def redraw(out: Path = OUT) -> list[Path]:
    """Every chart and table again from the saved numbers (for a change of style, not of numbers)."""
    paths: list[Path] = []
    if (data := load("speed", out)) is not None:
        paths += draw_speed(data, out)
    paths += draw_threads(out)
    if (data := load("server", out)) is not None:
        paths += draw_server(data, out)
    return paths


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the files go (default: {OUT.relative_to(ROOT)})")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("redraw", help="draw every chart again from the saved .json files")
    cap = sub.add_parser("capture", help="run a benchmark and keep its Markdown output as NAME.md")
    cap.add_argument("name", choices=sorted(CAPTURED))
    cap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command, e.g. python benchmarks/memory.py")
    args = parser.parse_args(argv)
    if args.action == "redraw":
        paths = redraw(args.out)
    else:
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            parser.error("capture needs a command after --")
        paths = [capture(args.name, command, CAPTURED[args.name], args.out)]
    for path in paths:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
