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
PR_GET_CHILD_SUBREAPER = 37
PROC = Path("/proc")


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    command: str


def _prctl(option: int, arg: object) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, arg, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants; False where Linux cannot."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def is_subreaper() -> bool:
    flag = ctypes.c_int(0)
    return _prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag)) and flag.value != 0


@contextmanager
def subreaper() -> Iterator[bool]:
    """This process as the reaper of its orphaned descendants for the block only (whether it can
    be one is yielded): for a test outside the harness's suites that starts a pilot itself."""
    was = is_subreaper()
    became = was or become_subreaper()
    try:
        yield became
    finally:
        if became and not was:
            _prctl(PR_SET_CHILD_SUBREAPER, 0)


def _table() -> dict[int, tuple[int, bool]]:
    """pid → (parent pid, is a zombie) for every process. Reads only ``/proc/<pid>/stat``;
    command lines are read later, for the few processes that matter."""
    found = {}
    for entry in PROC.iterdir() if PROC.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
            # the command name is in parentheses and may itself contain spaces or parentheses
            state, ppid = stat[stat.rindex(b")") + 2:].split()[:2]
            found[int(entry.name)] = (int(ppid), state == b"Z")
        except (OSError, ValueError):
            continue
    return found


def _parents(table: dict[int, tuple[int, bool]]) -> dict[int, int]:
    """pid → parent pid of every live process (a zombie is already dead; its parent only has to reap it)."""
    return {pid: ppid for pid, (ppid, zombie) in table.items() if not zombie}


def _command(pid: int) -> str:
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        if cmdline:
            return cmdline
        stat = (PROC / str(pid) / "stat").read_text()
        return stat[stat.index("(") + 1:stat.rindex(")")]
    except (OSError, ValueError):
        return ""


def _below(parents: dict[int, int], root: int) -> list[int]:
    """The pids below ``root`` in one snapshot, children before grandchildren."""
    by_parent: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        by_parent.setdefault(ppid, []).append(pid)
    result, frontier = [], [root]
    while frontier:
        children = [c for pid in frontier for c in by_parent.get(pid, [])]
        result += children
        frontier = children
    return result


def descendants(root: int | None = None) -> list[Process]:
    """Every live process below ``root`` (default: this one), children before grandchildren."""
    parents = _parents(_table())
    return [Process(pid, parents[pid], _command(pid))
            for pid in _below(parents, os.getpid() if root is None else root)]


def _reap_children(table: dict[int, tuple[int, bool]], spared: set[int]) -> None:
    """Collect the exit statuses of this process's dead children, so they do not linger as zombies,
    except those ``spared``: a child someone else waits for (a suite's Popen) keeps its status."""
    me = os.getpid()
    for pid, (ppid, zombie) in table.items():
        if zombie and ppid == me and pid not in spared:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def end_descendants(grace: float = 5.0, keep: frozenset[int] = frozenset()) -> list[Process]:
    """SIGTERM every descendant (except ``keep`` and their own descendants), wait up to ``grace``
    seconds, then SIGKILL what is left. Returns the processes that were found still running."""
    table = _table()  # one snapshot for what is spared and what is left
    parents = _parents(table)
    spared = set(keep)
    for pid in keep:
        spared.update(_below(parents, pid))
    left = [Process(pid, parents[pid], _command(pid)) for pid in _below(parents, os.getpid()) if pid not in spared]
    _reap_children(table, spared)
    if not left:  # the usual case: nothing to signal, nothing to wait for
        return left
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in left:
            try:
                os.kill(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            table = _table()
            _reap_children(table, spared)
            alive = set(_below(_parents(table), os.getpid()))
            if not any(p.pid in alive for p in left):
                break
            time.sleep(0.1)
    _reap_children(_table(), spared)
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
