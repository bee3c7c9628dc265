"""The markdown table of a ``bench.run_all`` result, and its place in docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _verdict(value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return "not measured"
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    miss = (target / value if higher_is_better else value / target) if value else float("inf")
    return f"missed ({miss:.2f}× off)"


Row = tuple[str, str, str, str]  # (figure, value, target, verdict)
DATABASES = ("sqlite", "postgresql")


def _figure(r: dict[str, Any], key: str, label: str, rows_of: Callable[[dict[str, Any]], list[Row]]) -> list[Row]:
    """The rows of one benchmark's result: none when it did not run, one "failed" row when it failed."""
    figure = r.get(key)
    if not figure:
        return []
    if "error" in figure:
        return [(label, figure["error"][:120], "", "failed")]
    return rows_of(figure)


def _ingest_rows(ing: dict[str, Any], db: str) -> list[Row]:
    return [(f"Ingest ({db}), records/s", f"{ing['records_per_s']:,} (baseline {ing['baseline_records_per_s']:,})",
             "≥ 2,000 on SQLite" if db == "sqlite" else "—",
             _verdict(ing["records_per_s"], 2000, True) if db == "sqlite" else "—"),
            (f"Ingest ({db}), ratio to baseline", f"{ing['ratio']:.2f}", "≥ 0.7", _verdict(ing["ratio"], 0.7, True))]


def _floor_rows(sf: dict[str, Any], db: str) -> list[Row]:
    return [(f"Page `{page}` ({db}) / floor, {sf['cells']} cells, {sf['stored']['results']:,} results",
             f"{sf['ratio'][page]:.2f}× ({sf['median_ms'][page]:.1f} / {sf['median_ms']['floor']:.1f} ms)",
             f"≤ {target}×", _verdict(sf["ratio"][page], target, False)) for page, target in sf["targets"].items()]


def _pages_rows(pg: dict[str, Any], db: str) -> list[Row]:
    scales = list(pg["scales"])
    label = f"{int(scales[-1]):,}/{int(scales[0]):,}"
    largest = pg["scales"][scales[-1]]
    rows = []
    if "results_per_s" in largest:
        rows.append((f"Generator ({db})", f"{largest['results']:,} results in {largest['seconds']} s: "
                     f"{largest['results_per_s']:,} results/s, {largest['rows_per_s']:,} rows/s",
                     "3M in reasonable time", "—"))
    for page, row in pg["pages"].items():  # every timed page: summary, site, run, test, compat, failures, digest
        rows.append((f"Page `{page}` ({db}), median {label}", f"{row['ratio']:.2f}×", "≤ 1.5×",
                     _verdict(row["ratio"], 1.5, False)))
    return rows


def _flood_rows(fl: dict[str, Any], db: str) -> list[Row]:
    # the shared views: summary, badges, an honest site, failures, compat, digest
    return [(f"Page `{page}` ({db}), one site with {fl['flood']['suites']:,} failing suites / without",
             f"{row['ratio']:.2f}×", "≤ 1.2×", _verdict(row["ratio"], 1.2, False)) for page, row in fl["pages"].items()]


def _junit_rows(jb: dict[str, Any], db: str) -> list[Row]:
    return [(f"Bulk JUnit ({db}), {jb['cases']:,} cases in one report",
             f"{jb['first_s']} s ({jb['cases_per_s']:,} cases/s; resent: {jb['again_s']} s)",
             f"< {jb['gunicorn_timeout_s']} s (gunicorn --timeout)", _verdict(jb["first_s"], jb["gunicorn_timeout_s"], False))]


def _frequency_rows(rf: dict[str, Any], db: str) -> list[Row]:
    # the matrix, its JSON and the pip export
    return [(f"Page `{page}` ({db}), 24 runs a day / 2", f"{row['ratio']:.2f}×", "≤ 1.2×",
             _verdict(row["ratio"], 1.2, False)) for page, row in rf["pages"].items()]


def _image_rows(im: dict[str, Any]) -> list[Row]:
    rows = []
    label = f"Image `python-stack` / its floor ({im.get('combination') or 'not built'})"
    if im.get("ratio") is not None:
        f = im["floor"]
        rows.append((label, f"{im['ratio']:.2f}× ({im['image_bytes'] / 1e6:,.0f} MB; floor {f['bytes'] / 1e6:,.0f} MB"
                     f" = base {f['base_bytes'] / 1e6:,.0f} + venv {f['venv_bytes'] / 1e6:,.0f}"
                     f" + run-time packages {f['runtime_packages_bytes'] / 1e6:,.0f}; built {im.get('measured_at')})",
                     "≤ 1.15×", _verdict(im["ratio"], 1.15, False)))
    else:
        size = f"image {im['image_bytes'] / 1e6:,.0f} MB; " if im.get("image_bytes") else ""
        rows.append((label, size + im.get("status", ""), "≤ 1.15×", "not measured"))
    if im.get("sdk") and im["sdk"] != "measured":
        rows.append(("Image `sdk` / its floor", im["sdk"], "≤ 1.15×", "not measured"))
    return rows


def _targets(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, label, rows_of in (("ingest", "Ingest", _ingest_rows), ("summary_floor", "Summary floor", _floor_rows),
                                 ("pages", "Pages", _pages_rows)):
        for db in DATABASES:
            rows += _figure(r, f"{name}_{db}", f"{label} ({db})", partial(rows_of, db=db))
    for db in DATABASES:
        rows += _figure(r, f"flood_{db}", f"Flood ({db})", partial(_flood_rows, db=db))
        rows += _figure(r, f"junit_bulk_{db}", f"Bulk JUnit ({db})", partial(_junit_rows, db=db))
    for db in DATABASES:
        rows += _figure(r, f"run_frequency_{db}", f"Run frequency ({db})", partial(_frequency_rows, db=db))
    rows += _harness_rows(r)
    if r.get("image_size"):
        rows += _image_rows(r["image_size"])
    return rows


def _load(figure: dict[str, Any]) -> str:
    loads = [x[0] for x in figure.get("loadavg", [])] or figure.get("loadavg_1min", [])
    return f"load {min(loads):.1f}–{max(loads):.1f}" if loads else "load not recorded"


def _harness_rows(r: dict[str, Any]) -> list[Row]:
    """Start-up (≤ 0.5 s), the quick suites (aim ≤ 1.05×) and every suite runnable here (≤ 1.03×)."""
    rows = []
    for key, target in (("harness_overhead", 1.05), ("harness_overhead_all", 1.03)):
        label = "Harness overhead, " + ("every suite runnable here" if key.endswith("_all") else "quick suites")
        rows += _figure(r, key, label, partial(_overhead_rows, key=key, label=label, target=target))
    return rows


def _overhead_rows(ho: dict[str, Any], key: str, label: str, target: float) -> list[Row]:
    rows = []
    if key == "harness_overhead" and ho.get("startup_s") is not None:
        rows.append(("Harness start-up, to its first suite's pytest (median)",
                     f"{ho['startup_s']:.2f} s (the interpreter alone: {ho['python_s']:.2f} s; {_load(ho)})",
                     "≤ 0.5 s", _verdict(ho["startup_s"], 0.5, False)))
    rows.append((f"{label} ({', '.join(ho['suites'])}; -j 1)",
                 f"{ho['ratio']:.2f}× ({ho['harness_s']} s vs {ho['bare_s']} s bare; {_load(ho)})",
                 f"≤ {target}×" if key.endswith("_all") else f"≤ {target}× (aim)", _verdict(ho["ratio"], target, False)))
    return rows


def _pages_table(pg: dict[str, Any], db: str) -> list[str]:
    scales = list(pg["scales"])
    head = ("| page | " + " | ".join(f"median / p95 at {int(s):,} (ms)" for s in scales)
            + " | ratio | paired ratio (p25–p75) | size ratio |")
    lines = [f"Page latency ({db}; {pg['client']}; {pg['repeats']} requests per page and scale; "
             f"{pg['matrix']['site_variant_rows']} site×variant rows × {pg['matrix']['suites']} suites):", "",
             head, "|---" * (len(scales) + 4) + "|"]
    for page, row in pg["pages"].items():
        cells = " | ".join(f"{row['median_ms'][s]:.1f} / {row['p95_ms'][s]:.1f}" for s in scales)
        paired = row.get("paired_ratio")  # results written before it was measured have none
        spread = f"{paired['median']:.2f}× ({paired['p25']:.2f}–{paired['p75']:.2f})" if paired else "—"
        size = f"{row['bytes_ratio']:.2f}×" if "bytes_ratio" in row else "—"
        lines.append(f"| `{page}` | {cells} | {row['ratio']:.2f}× | {spread} | {size} |")
    return lines


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"Run `{r['command']}` on {r['date']}.", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}, {m['os']}. "
        f"Load average (1/5/15 min) {r['loadavg_start']} at the start and {r.get('loadavg_end')} at the end; "
        f"other busy processes: {', '.join(r.get('other_processes_start') or []) or 'none'}.", "",
        "| benchmark | figure | target | verdict |", "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _targets(r)]
    for db in ("sqlite", "postgresql"):
        pg = r.get(f"pages_{db}")
        if pg and "pages" in pg:
            lines += [""] + _pages_table(pg, db)
    v = r.get("verify", {})
    checks = [f"{db}: {'identical' if x.get('identical') else 'DIFFERENT'}" for db, x in v.items()
              if isinstance(x, dict)]
    if checks:
        lines += ["", "Bulk loader against real uploads (`bench.verify`): " + "; ".join(checks) + "."]
    return "\n".join(lines) + "\n"


def update_docs(path: Path, table: str) -> None:
    """Replace the text between the markers (or append them with the table)."""
    text = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{table}{END}"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text)
