"""Leave no process behind: every process a suite starts is found and ended when it is done.

Flux brokers, RADICAL-Pilot agents and Balsam launchers start their own sessions and
double-fork, so neither the suite's process group nor its direct children reach them all.
Linux's child subreaper does: once a process is a subreaper, its orphaned descendants are
re-parented to it instead of to init, so walking ``/proc`` from it finds every one of them.
The suite's pytest process and the harness itself both become subreapers, and both end
whatever is left below them before they exit. Elsewhere (not Linux) this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
PROC = Path("/proc")


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    command: str


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants; False where Linux cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _processes() -> list[Process]:
    found = []
    for entry in PROC.iterdir() if PROC.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # the command name is in parentheses and may itself contain spaces or parentheses
            fields = stat[stat.rindex(")") + 2:].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):
            continue
        if fields[0] == "Z":  # a zombie is already dead; its parent only has to reap it
            continue
        found.append(Process(int(entry.name), int(fields[1]), cmdline or stat[stat.index("(") + 1:stat.rindex(")")]))
    return found


def descendants(root: int | None = None) -> list[Process]:
    """Every live process below ``root`` (default: this one), children before grandchildren."""
    root = os.getpid() if root is None else root
    by_parent: dict[int, list[Process]] = {}
    for proc in _processes():
        by_parent.setdefault(proc.ppid, []).append(proc)
    result, frontier = [], [root]
    while frontier:
        children = [c for pid in frontier for c in by_parent.get(pid, [])]
        result += children
        frontier = [c.pid for c in children]
    return result


def _reap_children() -> None:
    """Collect exit statuses of re-parented children, so they do not linger as zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_descendants(grace: float = 5.0, keep: frozenset[int] = frozenset()) -> list[Process]:
    """SIGTERM every descendant (except ``keep`` and their own descendants), wait up to ``grace``
    seconds, then SIGKILL what is left. Returns the processes that were found still running."""
    spared = set(keep)
    for pid in keep:
        spared.update(p.pid for p in descendants(pid))
    left = [p for p in descendants() if p.pid not in spared]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in left:
            try:
                os.kill(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            _reap_children()
            alive = {p.pid for p in descendants()}
            if not any(p.pid in alive for p in left):
                break
            time.sleep(0.1)
    _reap_children()
    return left


@contextmanager
def ends_what_it_starts(grace: float = 5.0) -> Iterator[None]:
    """Around a fixture: on exit, end every descendant that appeared inside the block (the whole
    tree a Flux instance, a pilot or a server started, wherever it re-parented to). Needs this
    process to be a subreaper (the harness plugin makes the suite's pytest one) to see orphans."""
    before = {p.pid for p in descendants()}
    try:
        yield
    finally:
        end_descendants(grace, keep=frozenset(before))
