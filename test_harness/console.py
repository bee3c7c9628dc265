"""Everything the CLI prints: rich tables and live progress lines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from exaworks_sdk.records import TestResult
from exaworks_sdk.status import Status, is_failing, label
from test_harness.detect import Detection, missing_reason
from test_harness.runner import RunResult, SuiteOutcome
from test_harness.suite import Suite

if TYPE_CHECKING:
    from test_harness.upload import FileOutcome

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

STYLE = {Status.PASSED: "green", Status.FAILED: "red", Status.ERROR: "bold red", Status.SKIPPED: "yellow",
         Status.KNOWN: "magenta", Status.FIXED: "bold cyan"}
MARK = {Status.PASSED: "✓", Status.FAILED: "✗", Status.ERROR: "!", Status.SKIPPED: "-", Status.KNOWN: "~",
        Status.FIXED: "?"}


def suites_table(suites: Sequence[Suite], detections: Mapping[str, Detection],
                 timeouts: Mapping[str, float]) -> Table:
    table = Table(title="Test suites")
    for column in ("suite", "tags", "requires", "timeout", "runnable here"):
        table.add_column(column)
    table.add_column("description", overflow="fold")
    for suite in suites:
        reason = missing_reason(suite.requires, detections)
        versions = ", ".join(f"{r} {detections[r].version or '?'}" for r in suite.requires
                             if r in detections and detections[r].found)
        runnable = f"[yellow]no[/]: {reason}" if reason else f"[green]yes[/] ({versions})"
        table.add_row(suite.name, ", ".join(sorted(suite.tags)), ", ".join(suite.requires),
                      f"{timeouts[suite.name]:.0f} s", runnable, suite.description)
    return table


def progress(event: str, suite: Suite, payload: object) -> None:
    if event == "suite_start":
        assert isinstance(payload, SuiteOutcome)
        note = f" [yellow](will skip: {payload.skip_reason})[/]" if payload.skip_reason else ""
        console.print(f"[bold]▶ {suite.name}[/] (timeout {payload.timeout:.0f} s){note}")
    elif event == "test" and isinstance(payload, TestResult):
        style = STYLE[payload.status]
        name = payload.test_id.rpartition("::")[2] or payload.test_id
        extra = ""
        if payload.status is not Status.PASSED and payload.message:
            lines = payload.message.strip().splitlines()
            # a known/fixed message leads with what it is; a failure's last line is the error
            line = lines[0] if payload.status in (Status.KNOWN, Status.FIXED) else lines[-1]
            extra = " — " + line[:160]
        console.print(f"  [{style}]{MARK[payload.status]} {suite.name}::{name}[/] "
                      f"({payload.duration:.1f} s){extra}", markup=True)
    elif event == "suite_finish":
        assert isinstance(payload, SuiteOutcome)
        console.print(f"[bold]■ {suite.name}[/] {_status_text(payload.status)} in {payload.duration:.1f} s")


def _status_text(status: Status) -> str:
    return f"[{STYLE[status]}]{label(status)}[/]"


def summary_table(result: RunResult) -> Table:
    table = Table(title=f"Run {result.run_id}")
    table.add_column("suite")
    table.add_column("result")
    for status in Status:
        table.add_column(label(status), justify="right", style=STYLE[status])
    table.add_column("time", justify="right")
    table.add_column("notes", overflow="fold")
    for outcome in result.outcomes:
        notes = "; ".join(dict.fromkeys(m.strip().splitlines()[0] for m in outcome.messages if m.strip()))
        if is_failing(outcome.status) and outcome.log:
            notes = (notes + f"; log: {outcome.log}").lstrip("; ")
        table.add_row(outcome.suite.name, _status_text(outcome.status),
                      *(str(outcome.counts.get(s, 0)) for s in Status), f"{outcome.duration:.1f} s", notes)
    totals = result.counts
    table.add_row("[bold]total[/]", _status_text(result.status), *(str(totals.get(s, 0)) for s in Status), "", "")
    return table


def upload_report(outcomes: Sequence[FileOutcome]) -> None:
    from test_harness.upload import State  # requests: only when uploading

    for outcome in outcomes:
        if outcome.state is State.SENT:
            console.print(f"[green]sent[/] {outcome.path}: {outcome.detail}")
        elif outcome.state is State.SPOOLED:
            err_console.print(f"[yellow]spooled[/] {outcome.path}: {outcome.detail}\n"
                              f"  kept at {outcome.spooled_at}; `sdk-test upload` resends it later")
        else:
            err_console.print(f"[red]rejected[/] {outcome.path}: {outcome.detail}\n"
                              f"  not marked as sent; kept at {outcome.spooled_at}")


def _brief(value: Any) -> str:
    """A nested value in one table line: a mapping (a pip freeze) as its size."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return f"{len(value)} entries (--json lists them)"
    return str(value)


def environment(data: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(data))
        return
    table = Table(title="Environment", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        if isinstance(value, dict):
            value = "\n".join(f"{k}: {_brief(v)}" for k, v in value.items()) or "—"
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "—"
        table.add_row(key, str(value if value is not None else "—"))
    console.print(table)
