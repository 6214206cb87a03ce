"""bench/results.md (tables, targets) and PNG plots from the figures bench/run.py collected."""

from __future__ import annotations

import json
import sys
from pathlib import Path

STAGES = ("sync", "build", "resolve", "reconcile", "report")
PEER_SOURCES = ("crm", "u8", "finance")  # what the bare client and dlt read (not WeCom)


def _rate(records: float, seconds: float) -> float:
    return records / seconds if seconds else 0.0


def hub_landing(stages: dict) -> tuple[int, float]:
    """Records and seconds of the hub's full sync for the sources the peers read too."""
    per = stages["full:sync"]["per_source"]
    return (sum(per[s]["records"] for s in PEER_SOURCES if s in per),
            sum(per[s]["seconds"] for s in PEER_SOURCES if s in per))


def ratios(run: dict) -> dict[str, float]:
    """The issue's targets as ratios for one run (None where the run has no figure)."""
    st = run["stages"]
    n, secs = hub_landing(st)
    hub = _rate(n, secs)
    out: dict[str, float | None] = {"hub_landing_rps": hub}
    out["landing_vs_bulk"] = hub / _rate(st["bulk"]["records"], st["bulk"].get("inside_s") or st["bulk"]["seconds"]) if "bulk" in st else None
    for mode in ("append", "merge"):
        d = st.get(f"dlt:{mode}")
        out[f"hub_vs_dlt_{mode}"] = hub / _rate(d["records"], d["passes"][0]["seconds"]) if d and "passes" in d else None
    d = st.get("dlt:merge")
    if d and len(d.get("passes", [])) > 1:
        out["dlt_merge_rerun_share"] = d["passes"][1]["seconds"] / d["passes"][0]["seconds"]
    run = [s for s in (*STAGES, "start") if s != "resolve" and f"full:{s}" in st]  # start: one process per run
    full = sum(st[f"full:{s}"]["seconds"] for s in run)
    inc = sum(st[f"incremental:{s}"]["seconds"] for s in run)
    out["incremental_share"] = inc / full
    out["reconcile_s"] = st["full:reconcile"]["seconds"]
    out["resolve_s"] = st["full:resolve"]["seconds"]
    cpu_full = [st[f"full:{s}"].get("cpu_s") for s in run]
    cpu_inc = [st[f"incremental:{s}"].get("cpu_s") for s in run]
    out["incremental_share_cpu"] = sum(cpu_inc) / sum(cpu_full) if None not in cpu_full + cpu_inc else None
    out["peak_rss_mb"] = max(st[f"full:{s}"]["peak_rss_mb"] for s in STAGES)
    par = st.get("parallel:sync")
    out["parallel_sync_speedup"] = st["full:sync"]["seconds"] / par["seconds"] if par and "seconds" in par else None
    so, inproc_stages = scale_out_parts(st)
    inproc = sum(inproc_stages[s]["seconds"] for s in STAGES if s in inproc_stages) if inproc_stages else None
    out["scaleout_speedup"] = inproc / so["seconds"] if inproc and so and "seconds" in so else None
    raw_span = max((v[1] for k, v in so.get("steps", {}).items() if k.startswith("raw_")), default=None) if so else None
    sync = inproc_stages.get("sync", {}) if inproc_stages else {}
    out["scaleout_sync_speedup"] = (sync.get("inside_s") or sync["seconds"]) / raw_span if raw_span and sync else None
    return out


def scale_out_parts(st: dict) -> tuple[dict | None, dict | None]:
    """The multiprocess job's figures and the in-process stages it is compared with: the full run's
    on the same world, or (``--quick``) both measured on the smaller ``scaleout_small`` world."""
    small = st.get("scaleout_small")
    if small:
        return small.get("job"), small.get("inprocess")
    if "scaleout" not in st:
        return None, None
    return st["scaleout"], {s: st[f"full:{s}"] for s in STAGES if s != "resolve"}


def _f(v, fmt="{:,.0f}") -> str:
    return "-" if v is None else fmt.format(v)


def table(run: dict) -> list[str]:
    st = run["stages"]
    lines = [f"### {run['customers']:,} customers, {run['orders']:,} U8 orders - {run['warehouse']}", "",
             "| stage | run | seconds | of which work | CPU s | records | records/s | peak RSS MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for phase in ("full", "incremental"):
        start = st.get(f"{phase}:start")
        if start:  # bench/run.py's default: the run's steps in one process, as hub run
            lines.append(f"| start-up of the run's one process (interpreter, imports, warehouse open) | {phase} | "
                         f"{start['seconds']:.2f} | - | {_f(start.get('cpu_s'), '{:.2f}')} | - | - | "
                         f"{start['peak_rss_mb']} (whole process) |")
        for s in STAGES:
            d = st.get(f"{phase}:{s}")
            if d is None:  # --quick times entity resolution (a full pass either way) once
                lines.append(f"| {s} | {phase} | not run (same work as the full run's) | - | - | - | - | - |")
                continue
            lines.append(f"| {s} | {phase} | {d['seconds']:.2f} | {d.get('inside_s', '-')} | {_f(d.get('cpu_s'), '{:.2f}')} | "
                         f"{d['records']:,} | {_f(_rate(d['records'], d.get('inside_s') or d['seconds']))} | "
                         f"{d['peak_rss_mb']} |")
    n, secs = hub_landing(st)
    lines.append(f"| sync crm+u8+finance | full | {secs:.2f} | - | - | {n:,} | {_f(_rate(n, secs))} | - |")
    if "bulk" in st:
        d = st["bulk"]
        lines.append(f"| plain bulk insert (crm+u8+finance) | yardstick | {d['seconds']:.2f} | {d.get('inside_s', '-')} | "
                     f"{_f(d.get('cpu_s'), '{:.2f}')} | {d['records']:,} | "
                     f"{_f(_rate(d['records'], d.get('inside_s') or d['seconds']))} | {d['peak_rss_mb']} |")
    for mode in ("append", "merge"):
        d = st.get(f"dlt:{mode}")
        if d and "error" in d:
            lines.append(f"| dlt {mode} | peer | failed: {d['error'][:150]} | - | - | - | - | - |")
        elif d:
            for i, p in enumerate(d["passes"], 1):
                lines.append(f"| dlt {d['dlt']} {mode} pass {i} (extract {p['extract_s']}, normalize "
                             f"{p['normalize_s']}, load {p['load_s']} s) | peer | - | {p['seconds']:.2f} | "
                             f"{_f(d.get('cpu_s'), '{:.2f}') if len(d['passes']) == 1 else '-'} | "
                             f"{p['records']:,} | {_f(_rate(p['records'], p['seconds']))} | {d['peak_rss_mb']} |")
    par = st.get("parallel:sync")
    if par and "error" in par:
        lines.append(f"| sync, sources as parallel processes | scale-out | failed: {par['error'][-200:]} | - | - | - | - | - |")
    elif par:
        lines.append(f"| sync, {par['processes']} sources as parallel processes | scale-out | {par['seconds']:.2f} | - | - | "
                     f"{st['full:sync']['records']:,} | {_f(_rate(st['full:sync']['records'], par['seconds']))} | "
                     f"{par['peak_rss_mb']} (largest) |")
    so, inproc = scale_out_parts(st)
    small = st.get("scaleout_small")
    where = f" on the {small['customers']:,}-customer world" if small else ""
    if small and inproc:
        for s, d in inproc.items():
            lines.append(f"| {s}{where} (in-process, compared with the job) | scale-out | {d['seconds']:.2f} | "
                         f"{d.get('inside_s', '-')} | {_f(d.get('cpu_s'), '{:.2f}')} | {d['records']:,} | - | "
                         f"{d['peak_rss_mb']} |")
    if so and "error" in so:
        lines.append(f"| Dagster multiprocess job{where} | scale-out | failed: {so['error'][-200:]} | - | - | - | - | - |")
    elif so:
        lines.append(f"| whole job on Dagster's multiprocess executor{where} ({so['processes']} processes, storage "
                     f"{so['run_storage']}) | scale-out | {so['seconds']:.2f} | {so.get('inside_s', '-')} | "
                     f"- (its step processes are not the stage's children) | {so['records']:,} | - | {so['peak_rss_mb']} |")
    per = st["full:sync"]["per_source"]
    if so and "steps" in so:
        lines += ["", "Multiprocess job, each step's [start, end] seconds from the first start: "
                  + ", ".join(f"{k} {v}" for k, v in so["steps"].items())]
    lines += ["", "Full sync per source: " + ", ".join(
        f"{k} {v['records']:,} records in {v['seconds']} s ({_f(_rate(v['records'], v['seconds']))}/s)"
        for k, v in per.items()), "",
        f"1 % change applied before the incremental run: {st.get('changes')}", ""]
    return lines


def targets(runs: list[dict]) -> list[str]:
    lines = ["## Targets", "", "| target | " + " | ".join(f"{r['customers']:,} {r['warehouse']}" for r in runs)
             + " |", "|---|" + "---:|" * len(runs)]
    rs = [ratios(r) for r in runs]

    def row(name: str, key: str, fmt: str) -> None:
        lines.append(f"| {name} | " + " | ".join(_f(r.get(key), fmt) for r in rs) + " |")

    row("hub raw landing / dlt append (>= 1)", "hub_vs_dlt_append", "{:.2f}")
    row("hub raw landing / dlt merge (>= 1)", "hub_vs_dlt_merge", "{:.2f}")
    row("hub raw landing / plain bulk insert (>= 0.50)", "landing_vs_bulk", "{:.2f}")
    row("incremental run after 1 % changes / full run (<= 0.05)", "incremental_share", "{:.3f}")
    row("the same in CPU seconds (user + sys of the stage and its taps; not the database server's)",
        "incremental_share_cpu", "{:.3f}")
    row("dlt merge re-run of unchanged data / its first run", "dlt_merge_rerun_share", "{:.3f}")
    row("R1-R11 seconds (< 60 at 1M orders)", "reconcile_s", "{:.1f}")
    row("entity resolution seconds (< 60 at 100k customers)", "resolve_s", "{:.1f}")
    row("largest stage peak RSS MB", "peak_rss_mb", "{:,.0f}")
    row("sequential sync / parallel per-source sync (SQLite)", "parallel_sync_speedup", "{:.2f}")
    row("sequential sync (work) / the multiprocess job's parallel raw steps (--quick: on a world a tenth "
        "the size)", "scaleout_sync_speedup", "{:.2f}")
    row("in-process stages (sync+build+reconcile+report) / whole multiprocess job (which also runs the "
        "expectation checks)", "scaleout_speedup", "{:.2f}")
    by_wh: dict[str, list] = {}
    for r, x in zip(runs, rs, strict=True):
        by_wh.setdefault(r["warehouse"], []).append((r["customers"], x["peak_rss_mb"]))
    for wh, pts in by_wh.items():
        if len(pts) > 1:
            pts.sort()
            lines.append(f"\nPeak RSS growth {pts[0][0]:,} -> {pts[-1][0]:,} customers on {wh}: "
                         f"{pts[-1][1] / pts[0][1]:.2f}x (target <= 1.5x)")
    return lines + [""]


def plots(runs: list[dict], out: Path) -> list[str]:
    """Three PNGs: stage seconds (full vs incremental), landing throughput vs the yardsticks,
    peak RSS per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    labels = [f"{r['customers'] // 1000}k {r['warehouse']}" for r in runs]
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 4), squeeze=False)
    for ax, r, lab in zip(axes[0], runs, labels, strict=True):
        x = range(len(STAGES))
        ax.bar([i - 0.2 for i in x], [r["stages"][f"full:{s}"]["seconds"] for s in STAGES], 0.4, label="full")
        ax.bar([i + 0.2 for i in x], [r["stages"].get(f"incremental:{s}", {}).get("seconds", 0) for s in STAGES], 0.4,
               label="after 1 % change")
        ax.set_xticks(list(x), STAGES)
        ax.set_ylabel("seconds")
        ax.set_title(lab)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "stages.png", dpi=90)
    names.append("stages.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    kinds = ["hub sync", "plain bulk insert", "dlt append", "dlt merge"]
    width = 0.8 / len(runs)
    for j, (r, lab) in enumerate(zip(runs, labels, strict=True)):
        st = r["stages"]
        n, secs = hub_landing(st)
        vals = [_rate(n, secs), _rate(st["bulk"]["records"], st["bulk"].get("inside_s") or st["bulk"]["seconds"]) if "bulk" in st else 0]
        for mode in ("append", "merge"):
            d = st.get(f"dlt:{mode}")
            vals.append(_rate(d["records"], d["passes"][0]["seconds"]) if d and "passes" in d else 0)
        ax.bar([i + j * width for i in range(len(kinds))], vals, width, label=lab)
    ax.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(kinds))], kinds)
    ax.set_ylabel("records / s (crm + u8 + finance)")
    ax.set_title("Raw landing vs the yardsticks, same records, same database")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=90)
    names.append("throughput.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    for j, (r, lab) in enumerate(zip(runs, labels, strict=True)):
        ax.bar([i + j * width for i in range(len(STAGES))],
               [r["stages"][f"full:{s}"]["peak_rss_mb"] for s in STAGES], width, label=lab)
    ax.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(STAGES))], STAGES)
    ax.set_ylabel("peak RSS MB (full run)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "memory.png", dpi=90)
    names.append("memory.png")
    plt.close("all")
    return names


ONE_PROCESS = ("Each run (full, incremental) is one process, as `hub run` runs it: sync, build, reconcile and report "
               "timed inside it (wall, CPU with the taps it waited for, peak RSS since the step began - memory "
               "earlier steps kept counts too), the process's start-up a row of its own and part of the run's "
               "total; entity resolution alone, the yardsticks and the scale-out rows are processes of their own "
               "(/usr/bin/time, the kernel's wait4 figures). ")


def write_all(results: dict, out: Path) -> None:
    """results.md and the PNGs into ``out``."""
    runs = results["runs"]
    md = ["# Benchmark results", "",
          f"Run {results['started']} on {results['cores']} cores (shared machine) with "
          "`python3 -m uv run --frozen python bench/run.py " + results.get("args", "") + "`. "
          + (ONE_PROCESS if any("full:start" in r["stages"] for r in runs) else
             "Every stage is its own process: seconds are its wall time, peak RSS its own (/usr/bin/time, i.e. the kernel's wait4 figure: the stage process or its largest tap process). ") +
          "Simulators unthrottled, in the parent process. Yardsticks load the same crm + u8 + finance "
          "records from the same simulators into the same database.", ""]
    md += targets(runs)
    for r in runs:
        md += table(r)
    try:
        md += [f"![{n}]({n})" for n in plots(runs, out)]
    except ImportError:
        md += ["(matplotlib is not installed: no plots)"]
    md += ["", *results.get("notes", [])]
    findings = Path(__file__).with_name("findings.md")  # what bounds each missed target (written by hand)
    if findings.exists():
        md += ["", findings.read_text(encoding="utf-8").strip()]
    (out / "results.md").write_text("\n".join(md) + "\n", encoding="utf-8")


if __name__ == "__main__":
    # python bench/plots.py OUT [RESULTS.json ...]: redraw OUT from its results.json, or from
    # several runs' results.json merged (e.g. SQLite and PostgreSQL run as two commands).
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    parts = [json.loads(Path(p).read_text()) for p in sys.argv[2:]] or [json.loads((folder / "results.json").read_text())]
    merged = parts[0] | {"runs": [r for p in parts for r in p["runs"]],
                         "args": " ; ".join(p.get("args", "") for p in parts),
                         "started": " and ".join(p.get("started", "?") for p in parts),
                         "notes": [n for p in parts for n in p.get("notes", [])]}
    (folder / "results.json").write_text(json.dumps(merged, indent=1, ensure_ascii=False))
    write_all(merged, folder)
