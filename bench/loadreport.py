"""Reading the rows of a bench_load.py (or bench_peers.py) run: medians over
rounds, ratios against the floor and overheads against direct taken within
the same round, the markdown tables, the issue's targets as pass/miss lines
and the optional PNG of latency percentiles."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

Row = dict[str, Any]
Pair = Callable[[Row, Row], float | None]


def fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def ratio(key: str) -> Pair:
    return lambda a, b: a[key] / b[key] if a.get(key) and b.get(key) else None


def over(key: str) -> Pair:
    def f(a: Row, b: Row) -> float | None:
        if a.get(key) is None or b.get(key) is None:
            return None
        return float(a[key] - b[key])

    return f


class Rows:
    """The rows of one run, by (measure, scenario, target)."""

    def __init__(self, rows: Sequence[Row], targets: Sequence[str]) -> None:
        self.by: dict[tuple[str, str, str], list[Row]] = {}
        for r in rows:
            self.by.setdefault((r["measure"], r["scenario"], r["target"]), []).append(r)
        self.measures = list(dict.fromkeys((r["measure"], r["scenario"]) for r in rows))
        self.targets = [t for t in targets if any(k[2] == t for k in self.by)]

    def get(self, measure: str, scen: str, target: str) -> list[Row]:
        return self.by.get((measure, scen, target), [])

    def med(self, measure: str, scen: str, target: str, key: str) -> float | None:
        vals = [r[key] for r in self.get(measure, scen, target) if r.get(key)]
        return statistics.median(vals) if vals else None

    def errors(self, measure: str, scen: str, target: str) -> int | None:
        rows = self.get(measure, scen, target)
        return sum(r["errors"] for r in rows) if rows else None

    def paired(
        self, measure: str, scen: str, target: str, ref: str, f: Pair
    ) -> float | None:
        """Median over rounds of f(target's row, ref's row of the same round)."""
        refs = {r["round"]: r for r in self.get(measure, scen, ref)}
        vals = [
            v
            for r in self.get(measure, scen, target)
            if (o := refs.get(r["round"])) is not None and (v := f(r, o)) is not None
        ]
        return statistics.median(vals) if vals else None


def _load_table(rs: Rows, m: str, s: str, ref: str) -> list[str]:
    gen = rs.get(m, s, rs.targets[0])[0].get("generator", "")
    out = [
        f"\n**{m} {s}** (50 connections, closed loop, {gen})\n",
        f"| target | req/s | x {ref} | p50 ms | p99 ms | p99 x {ref} | errors "
        "| CPU ms/req |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in rs.targets:
        rows = rs.get(m, s, t)
        if not rows:
            continue
        lo, hi = min(r["rps"] for r in rows), max(r["rps"] for r in rows)
        span = f"{lo:,.0f}" if lo == hi else f"{lo:,.0f}-{hi:,.0f}"
        cells = [
            t,
            span,
            fmt(rs.paired(m, s, t, ref, ratio("rps"))),
            fmt(rs.med(m, s, t, "p50_ms")),
            fmt(rs.med(m, s, t, "p99_ms")),
            fmt(rs.paired(m, s, t, ref, ratio("p99_ms"))),
            str(rs.errors(m, s, t)),
            fmt(rs.med(m, s, t, "cpu_ms_per_req"), ".3f"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _seq_table(rs: Rows, m: str, s: str, ref: str) -> list[str]:
    k50, k99 = ("p50_ms", "p99_ms") if m == "seq" else ("ttfb_p50_ms", "ttfb_p99_ms")
    what = "latency" if m == "seq" else "time to the first body byte"
    out = [
        f"\n**{m} {s}** (1 connection, sequential: {what}; overhead = target"
        " - direct, same round)\n",
        f"| target | p50 ms | p99 ms | overhead p50 ms | overhead x {ref}'s "
        "| overhead p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    ref_over = rs.paired(m, s, ref, "direct", over(k50))
    for t in rs.targets:
        if not rs.get(m, s, t):
            continue
        o50 = rs.paired(m, s, t, "direct", over(k50))
        rel = o50 / ref_over if o50 is not None and ref_over else None
        cells = [
            t,
            fmt(rs.med(m, s, t, k50), ".3f"),
            fmt(rs.med(m, s, t, k99), ".3f"),
            fmt(o50, ".3f"),
            fmt(rel),
            fmt(rs.paired(m, s, t, "direct", over(k99)), ".3f"),
            str(rs.errors(m, s, t)),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _rate_table(rs: Rows, m: str, s: str, ref: str) -> list[str]:
    out = [
        f"\n**{m} {s}** (open loop, bench/loadgen.py, up to 128 connections;"
        " latency from when each request was due)\n",
        f"| target | offered | achieved req/s | p50 ms | p99 ms | p99 x {ref} "
        "| errors | never sent |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in rs.targets:
        rows = rs.get(m, s, t)
        if not rows:
            continue
        cells = [
            t,
            f"{rows[0]['offered_rps']:,.0f}",
            fmt(rs.med(m, s, t, "rps"), ",.0f"),
            fmt(rs.med(m, s, t, "p50_ms")),
            fmt(rs.med(m, s, t, "p99_ms")),
            fmt(rs.paired(m, s, t, ref, ratio("p99_ms"))),
            str(rs.errors(m, s, t)),
            str(sum(r.get("late", 0) for r in rows)),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _rss_table(rs: Rows, m: str, s: str, ref: str) -> list[str]:
    first = rs.get(m, s, rs.targets[0])[0]
    out = [
        f"\n**rss** ({first['streams']:,} concurrent `{first['model']}` streams of"
        f" {first['chunks']} chunks; RSS summed over the target's processes)\n",
        "| target | RSS before MB | peak MB | after MB | processes | completed "
        "| errors | TTFB p50 / p99 s | all done s | fake's connections, peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in rs.targets:
        rows = rs.get(m, s, t)
        if not rows:
            continue
        r = rows[-1]
        ttfb = f"{fmt(r['ttfb_p50_ms'] / 1e3)} / {fmt(r['ttfb_p99_ms'] / 1e3)}"
        cells = [
            t,
            str(r["rss_base_mb"]),
            str(r["rss_peak_mb"]),
            str(r["rss_after_mb"]),
            str(r["processes"]),
            str(r["requests"]),
            str(r["errors"]),
            ttfb if r.get("ttfb_p50_ms") else "-",
            str(r["elapsed_s"]),
            str(r.get("fake_conns_peak", "-")),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


def tables(rows: Sequence[Row], targets: Sequence[str], ref: str = "floor") -> str:
    rs = Rows(rows, targets)
    out: list[str] = []
    for m, s in rs.measures:
        if m == "load50":
            out += _load_table(rs, m, s, ref)
        elif m in ("seq", "ttfb"):
            out += _seq_table(rs, m, s, ref)
        elif m.startswith("rate-"):
            out += _rate_table(rs, m, s, ref)
        elif m == "rss":
            out += _rss_table(rs, m, s, ref)
    return "\n".join(out)


def figures(rows: Sequence[Row], targets: Sequence[str], tz: float | None) -> Row:
    """The figures the issue's targets are about."""
    rs = Rows(rows, targets)
    chat, r1 = "chat-1k", "router-1"
    return {
        "router1_rps_x_floor": rs.paired("load50", chat, r1, "floor", ratio("rps")),
        "router1_p99_x_floor": rs.paired("load50", chat, r1, "floor", ratio("p99_ms")),
        "router1_errors": rs.errors("load50", chat, r1),
        "router1_rps": rs.med("load50", chat, r1, "rps"),
        "floor_rps": rs.med("load50", chat, "floor", "rps"),
        "router2_rps": rs.med("load50", chat, "router-2", "rps"),
        "tensorzero_rps": tz,
        "router1_seq_overhead_ms": rs.paired("seq", chat, r1, "direct", over("p50_ms")),
        "floor_seq_overhead_ms": rs.paired(
            "seq", chat, "floor", "direct", over("p50_ms")
        ),
        "router1_ttfb_overhead_ms": rs.paired(
            "ttfb", "stream-50", r1, "direct", over("ttfb_p50_ms")
        ),
        "floor_ttfb_overhead_ms": rs.paired(
            "ttfb", "stream-50", "floor", "direct", over("ttfb_p50_ms")
        ),
        "router1_rss_peak_mb": rs.med("rss", "slow-stream", r1, "rss_peak_mb"),
    }


def _line(ok: bool | None, text: str) -> str:
    tag = "not measured" if ok is None else ("pass" if ok else "MISS")
    return f"{tag:>12}  {text}"


def verdicts(f: Row, streams: int) -> list[str]:
    """The issue's targets as pass/miss lines with the measured ratio."""
    out = []
    r, e = f["router1_rps_x_floor"], f["router1_errors"]
    text = "router-1 req/s >= 0.75x the floor's at 50 connections, no errors"
    ok = None if r is None else r >= 0.75 and e == 0
    out.append(_line(ok, f"{text}: {fmt(r)}x, {e} errors"))
    p = f["router1_p99_x_floor"]
    ok = None if p is None else p <= 1.5
    out.append(_line(ok, f"router-1 p99 <= 1.5x the floor's: {fmt(p)}x"))
    r2, tz = f["router2_rps"], f["tensorzero_rps"]
    text = "router-2 req/s >= 1.0x TensorZero's"
    if r2 is None or tz is None:
        why = "bench/results/peers.jsonl has no TensorZero run: make bench-peers"
        out.append(_line(None, f"{text}: {why}"))
    else:
        got = f"{r2 / tz:.2f}x ({r2:,.0f} here, {tz:,.0f} in peers.jsonl's last run)"
        out.append(_line(r2 >= tz, f"{text}: {got}"))
    o, fo = f["router1_seq_overhead_ms"], f["floor_seq_overhead_ms"]
    rel = o / fo if o is not None and fo else None
    text = "router-1 p50 overhead at 1 connection <= 1.3x the floor's"
    got = f"{fmt(o, '.3f')} vs {fmt(fo, '.3f')} ms = {fmt(rel)}x"
    out.append(_line(None if rel is None else rel <= 1.3, f"{text}: {got}"))
    t, ft = f["router1_ttfb_overhead_ms"], f["floor_ttfb_overhead_ms"]
    diff = None if t is None or ft is None else t - ft
    text = "router-1 streaming TTFB overhead <= the floor's + 0.3 ms"
    got = f"{fmt(t, '.3f')} vs {fmt(ft, '.3f')} ms ({fmt(diff, '+.3f')} ms)"
    out.append(_line(None if diff is None else diff <= 0.3, f"{text}: {got}"))
    m = f["router1_rss_peak_mb"]
    text = f"router-1 peak RSS with {streams:,} slow streams < 150 MB"
    out.append(_line(None if m is None else m < 150, f"{text}: {fmt(m, '.1f')} MB"))
    return out


def latest(path: Path, target: str, measure: str, scen: str, key: str) -> float | None:
    """Median of `key` for one target in the last run recorded in `path`."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return None
    rows = [msgspec.json.decode(x) for x in lines if x.strip()]
    hits = [
        r
        for r in rows
        if (r.get("target"), r.get("measure"), r.get("scenario"))
        == (target, measure, scen)
        and r.get(key)
    ]
    if not hits:
        return None
    run = hits[-1].get("run")
    return statistics.median(r[key] for r in hits if r.get("run") == run)


def plot(rows: Sequence[Row], targets: Sequence[str], png: Path) -> str:
    """A PNG of p50/p90/p99 per target for the chat-1k measures, when
    matplotlib is importable; otherwise a line saying why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no PNG: matplotlib is not installed (pip install -e '.[plot]')"
    rs = Rows(rows, targets)
    panels = [(m, s) for m, s in rs.measures if s == "chat-1k"]
    if not panels:
        return "no PNG: no chat-1k measure in this run"
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6))
    axes = [axes] if len(panels) == 1 else list(axes)
    width = 0.27
    for ax, (m, s) in zip(axes, panels, strict=True):
        names = [t for t in rs.targets if rs.get(m, s, t)]
        xs = range(len(names))
        for i, key in enumerate(("p50_ms", "p90_ms", "p99_ms")):
            vals = [rs.med(m, s, t, key) or 0.0 for t in names]
            ax.bar([x + i * width for x in xs], vals, width, label=key[:3])
        ax.set_xticks([x + width for x in xs], names, rotation=30, fontsize=8)
        ax.set_title(f"{m} {s}", fontsize=9)
        ax.set_yscale("log")
        ax.set_ylabel("ms")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return f"PNG: {png}"
