"""Smoke tests: the generator and every benchmark script run end to end at a tiny scale.

Nothing here is timed; the figures come from ``python -m bench`` (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is a top-level directory, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    flood,
    harness_overhead,
    image_size,
    ingest,
    junit_bulk,
    pages,
    report,
    run_frequency,
    summary_floor,
    verify,
)
from bench.generate import count_results, load, open_database  # noqa: E402
from bench.synth import Matrix, Spec, days_for  # noqa: E402


def test_generator_fills_about_the_requested_results(tmp_path):
    spec = days_for(Spec(sites=3, suites=4), 2_000)
    engine = open_database(f"sqlite:///{tmp_path / 'g.sqlite'}")
    stats = load(engine, Matrix.build(spec))
    assert stats.results == count_results(engine)
    assert 1_000 <= stats.results <= 3_000 and stats.rows > stats.results


def test_generated_history_equals_real_uploads(tmp_path):
    counts, problems = verify.verify(f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert problems == [] and counts["test_results"] > 0 and counts["latest_results"] > 0
    assert counts["latest_set_runs"] > counts["latest_results"]  # cells that ran several version sets


@pytest.mark.slow
def test_ingest_benchmark_runs(tmp_path):
    out = ingest.run(f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}",
                     records=300, batch=100, clients=2, rounds=1, log_dir=tmp_path / "logs")
    assert out["records_per_s"] > 0 and out["baseline_records_per_s"] > 0 and out["ratio"] > 0


@pytest.mark.slow
def test_pages_benchmark_runs(tmp_path):
    out = pages.run(scales=(300, 1_500), repeats=1, workdir=tmp_path)
    assert set(out["pages"]) >= {"summary", "summary.json", "site", "run", "test_history", "test_history.json",
                                 "compat", "compat.json", "known_good.pip", "known_good.spack",
                                 "failures", "failures.json", "digest", "digest.json"}
    assert all(row["ratio"] > 0 for row in out["pages"].values())
    assert all(row["paired_ratio"]["median"] == row["ratio"] for row in out["pages"].values())  # one round
    assert "summary" in pages.table(out) and "failures.json" in pages.table(out)
    paired = out["pages"]["failures.json"]["paired_ratio"]
    assert any(line.startswith("| `failures.json` |") and f"| {paired['median']:.2f}× ({paired['p25']:.2f}–" in line
               for line in report._pages_table(out, "sqlite"))
    rows = report._targets({"pages_sqlite": out})
    assert {"Page `compat` (sqlite), median 1,500/300", "Page `digest.json` (sqlite), median 1,500/300"} <= {
        r[0] for r in rows}


def test_the_paired_ratio_divides_each_round_by_its_own_partner():
    # the machine slows down threefold over the run: each round's pair still measures 2x
    assert pages.paired_ratio([2, 4, 6, 12], [1, 2, 3, 6]) == {"median": 2.0, "p25": 2.0, "p75": 2.0}
    assert pages.paired_ratio([1, 2, 3, 4, 5], [1, 1, 1, 1, 1]) == {"median": 3.0, "p25": 2.0, "p75": 4.0}


def test_synthetic_history_gives_the_new_pages_content(tmp_path):
    """Failures with fingerprints (one shared by several tests), several version sets per suite."""
    spec = days_for(Spec(sites=6, suites=10, seed=5, flaky_fraction=0.2), 3_000)
    engine = open_database(f"sqlite:///{tmp_path / 'c.sqlite'}")
    load(engine, Matrix.build(spec))
    with engine.connect() as conn:
        fingerprints = dict(conn.execute(text(
            "SELECT fingerprint, count(DISTINCT suite) FROM test_results WHERE status IN ('failed', 'error') "
            "GROUP BY fingerprint")).all())
        unprinted = conn.scalar(text("SELECT count(*) FROM test_results WHERE status IN ('failed', 'error') "
                                     "AND fingerprint IS NULL"))
        sets = conn.scalar(text("SELECT count(DISTINCT CAST(components AS TEXT)) FROM runs"))
    assert unprinted == 0 and len(fingerprints) > 5 and max(fingerprints.values()) >= 3
    assert sets >= 3


@pytest.mark.slow
def test_summary_floor_benchmark_runs(tmp_path):
    out = summary_floor.run(results=3_000, repeats=1, workdir=tmp_path)
    assert out["cells"] > 0 and out["median_ms"]["floor"] > 0
    assert set(out["ratio"]) == {"summary", "summary.json"} and all(r > 0 for r in out["ratio"].values())
    table = report.markdown({"command": "c", "date": "d", "loadavg_start": [0, 0, 0], "summary_floor_sqlite": out,
                             "machine": {"cpu": "cpu", "cores": 2, "ram_gb": 4.0, "python": "3.11", "os": "Linux"}})
    assert "Page `summary.json` (sqlite) / floor" in table


@pytest.mark.slow
def test_run_frequency_benchmark_shows_the_same_sets_at_both_frequencies(tmp_path):
    spec = Spec(sites=3, suites=4, days=10, tests_per_suite=(1, 1), release_days=4)
    out = run_frequency.run(repeats=1, workdir=tmp_path, spec=spec)
    assert out["frequencies"]["24"]["runs"] == 12 * out["frequencies"]["2"]["runs"]
    assert set(out["pages"]) == set(run_frequency.PATHS) and "compat.json" in run_frequency.table(out)
    assert 0.9 <= out["pages"]["compat.json"]["bytes_ratio"] <= 1.1  # the same sets and sites, other run ids
    rows = {row[0]: row for row in report._targets({"run_frequency_sqlite": out})}
    assert rows["Page `compat.json` (sqlite), 24 runs a day / 2"][2] == "≤ 1.2×"


@pytest.mark.slow
def test_flood_benchmark_runs(tmp_path):
    out = flood.run(suites=50, results=300, repeats=1, workdir=tmp_path)
    assert out["flood"]["accepted"] == 52 and out["summary_ratio"] > 0
    assert "summary" in flood.table(out)


@pytest.mark.slow
def test_junit_bulk_benchmark_runs():
    out = junit_bulk.run(cases=200)
    assert out["first_result"] == {"accepted": 200, "duplicates": 0} and out["within_timeout"]
    assert out["again_result"] == {"accepted": 0, "duplicates": 200}


@pytest.mark.slow
def test_harness_overhead_runs():
    out = harness_overhead.run(("mpi",), repeats=1)
    assert out["bare_s"] > 0 and out["harness_s"] > 0
    assert 0 < out["startup_s"] < out["harness_s"] and out["python_s"] > 0
    assert len(out["all_startup_s"]) == 2  # the warm-up pair's harness run is timed too


def test_image_size_reads_the_sizes_file(tmp_path):
    assert image_size.run(tmp_path / "missing.json")["status"] == "not measured in this run"
    sizes = tmp_path / "sizes.json"
    sizes.write_text(json.dumps({"targets": {"python-stack": {"tag": "t", "bytes": 1_100}}}))
    assert image_size.run(sizes)["status"] == "floor not measured"
    payload = {"venv_bytes": 500, "runtime_packages": ["libc6", "python3.11", "libmpich12"],
               "package_bytes": {"libc6": 100, "python3.11": 200, "libmpich12": 150, "gcc-12": 300}}
    base = {"ref": "debian:bookworm-slim", "bytes": 80, "packages": ["libc6"]}
    sizes.write_text(json.dumps({"targets": {"python-stack": {"tag": "t", "bytes": 1_200}},
                                 "base_image": base, "payload": payload}))
    out = image_size.run(sizes)
    # floor = base 80 + venv 500 + what the payload needs that the base lacks (python3.11, libmpich12)
    assert out["floor_bytes"] == 930 and out["ratio"] == round(1_200 / 930, 3)
    assert out["floor"]["other_packages"] == {"gcc-12": 300}
    assert "sdk" in out and "not built here" in out["sdk"]
    assert "1.29×" in image_size.brief(out)


@pytest.mark.slow
def test_image_payload_finds_what_the_venv_needs_at_run_time():
    """bench/image_payload.py runs inside an image; here it reads this machine's dpkg database."""
    if not Path("/usr/bin/dpkg-query").exists():
        pytest.skip("not a Debian-family machine")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "image_payload.py"), sys.prefix],
                          capture_output=True, text=True, timeout=600, check=True)
    out = json.loads(proc.stdout)
    assert out["venv_bytes"] > 0 and "libc6" in out["runtime_packages"]
    assert set(out["runtime_packages"]) <= set(out["package_bytes"])


def test_report_fills_the_docs_markers(tmp_path):
    result = {"command": "python -m bench", "date": "2026-11-21 12:00 UTC", "loadavg_start": [0.1, 0.1, 0.1],
              "loadavg_end": [0.2, 0.2, 0.2],
              "machine": {"cpu": "cpu", "cores": 2, "ram_gb": 4.0, "python": "3.11", "os": "Linux"},
              "ingest_sqlite": {"records_per_s": 2500, "baseline_records_per_s": 3000, "ratio": 0.83},
              "harness_overhead": {"suites": ["mpi"], "ratio": 1.2, "harness_s": 1.2, "bare_s": 1.0,
                                   "startup_s": 0.45, "python_s": 0.03, "loadavg": [[2.0, 2.1, 2.2], [3.5, 2.5, 2.3]]},
              "harness_overhead_all": {"suites": ["mpi", "psij"], "ratio": 1.01, "harness_s": 101, "bare_s": 100},
              "image_size": {"status": "not measured in this run"}}
    text = report.markdown(result)
    assert "| Ingest (sqlite), ratio to baseline | 0.83 | ≥ 0.7 | met |" in text
    assert "missed (1.14× off)" in text
    assert "| Harness start-up, to its first suite's pytest (median) | 0.45 s (the interpreter alone: 0.03 s; " \
           "load 2.0–3.5) | ≤ 0.5 s | met |" in text
    assert "every suite runnable here (mpi, psij; -j 1) | 1.01× (101 s vs 100 s bare; load not recorded) | ≤ 1.03× | met" \
           in text
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{report.BEGIN}\nold\n{report.END}\n\nAfter.\n")
    report.update_docs(doc, text)
    written = doc.read_text()
    assert "old" not in written and "After." in written and "0.83" in written


def test_report_says_which_benchmarks_failed_and_skips_those_not_run():
    rows = report._targets({"flood_sqlite": {"error": "server did not start"}, "junit_bulk_sqlite": {"error": "timeout"},
                            "harness_overhead_all": {"error": "pytest missing"}})
    assert rows == [("Flood (sqlite)", "server did not start", "", "failed"),
                    ("Bulk JUnit (sqlite)", "timeout", "", "failed"),
                    ("Harness overhead, every suite runnable here", "pytest missing", "", "failed")]
    assert report._targets({}) == []
