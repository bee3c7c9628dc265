"""Swift/T: `swift-t -E` for a one-liner and a small dataflow script (foreach, futures, an app
function calling an external program, and ``read`` from the files module)."""

from __future__ import annotations

from pathlib import Path

from test_harness.suites.conftest import run

DATAFLOW = """\
import files;
import io;
import stats;
import string;

(int o) twice(int i) { o = 2 * i; }

app (file o) greet(string who) { "echo" ("hello " + who) @stdout=o; }

int values[];
foreach i in [0:4] { values[i] = twice(i); }
printf("sum=%i", sum_integer(values));

file g<"greeting.txt"> = greet("swift");
string text = read(g);
printf("read=%s", trim(text));
"""


def test_one_liner() -> None:
    out = run(["swift-t", "-E", "trace(6*7);"], timeout=120).stdout
    assert "trace: 42" in out, out


def test_dataflow_script(tmp_path: Path) -> None:
    script = tmp_path / "dataflow.swift"
    script.write_text(DATAFLOW)
    out = run(["swift-t", "-n", "3", str(script)], timeout=180, cwd=tmp_path).stdout
    assert "sum=20" in out, out
    assert "read=hello swift" in out, out
    assert (tmp_path / "greeting.txt").read_text().strip() == "hello swift"
