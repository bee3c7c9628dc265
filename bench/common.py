"""Shared pieces: the machine description, load averages, percentiles and a gunicorn server."""

from __future__ import annotations

import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(ram, 1), "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}"}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def busiest_processes(limit: int = 5) -> list[str]:
    """What else is using the CPU right now (top's second sample, 1 s apart; ≥ 5 %)."""
    try:
        out = subprocess.run(["top", "-b", "-n", "2", "-d", "1", "-o", "%CPU", "-w", "200"],
                             capture_output=True, text=True, timeout=15).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    frame = out.split("\ntop - ")[-1].splitlines()
    start = next((i for i, line in enumerate(frame) if line.lstrip().startswith("PID")), len(frame))
    found = []
    for line in frame[start + 1:]:
        parts = line.split(None, 11)
        if len(parts) == 12 and int(parts[0]) != os.getpid():
            try:
                cpu = float(parts[8].replace(",", "."))
            except ValueError:
                continue
            if cpu >= 5.0:
                found.append(f"{parts[11]} ({parts[1]}) {cpu:.0f}%")
        if len(found) >= limit:
            break
    return found


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def quantile(values: Sequence[float], q: float) -> float:
    """The value at fraction ``q`` of the sorted values (nearest rank), or NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p95(values: Sequence[float]) -> float:
    return quantile(values, 0.95)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path, workers: int = 2, timeout: int = 300) -> Iterator[str]:
    """Serve ``app`` (a gunicorn app spec) on a free loopback port; yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--timeout", str(timeout), "--chdir", str(ROOT), app]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(process, base, log)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/api/v1/health", timeout=5)
            return
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn did not come up:\n{log.read_text(errors='replace')[-3000:]}")
