"""Send record files to the dashboard; whatever cannot be sent waits in a spool directory.

A file leaves the spool only after the dashboard accepted every record in it. The
dashboard is idempotent on record ids, so resending a file (or a part of one) is safe,
which is also why POST may be retried.
"""

from __future__ import annotations

import enum
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from exaworks_sdk.records import read_records
from test_harness.errors import HarnessError

API_PATH = "/api/v1/records"
RETRY_STATUSES = (502, 503, 504)
OLD_UPLOAD_PATHS = ("/result", API_PATH)  # what SDK_DASHBOARD_URL held for the old wrapper, or a full API URL


def base_url(url: str) -> tuple[str, str | None]:
    """The dashboard's base address, and a warning when ``url`` is an upload URL instead: the
    old SDK wrapper's SDK_DASHBOARD_URL was the full ``…/result`` address, sdk-test's is the base."""
    stripped = url.rstrip("/")
    for path in OLD_UPLOAD_PATHS:
        if stripped.endswith(path) and stripped[: -len(path)].count("/") >= 2:
            base = stripped[: -len(path)]
            return base, (f"SDK_DASHBOARD_URL={url} ends in {path}: that is an upload address (the old SDK "
                          f"wrapper's form); sdk-test wants the dashboard's base address, so it uses {base}. "
                          f"Set SDK_DASHBOARD_URL={base} to silence this.")
    return url, None


def default_spool_dir(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """Where records wait when no spool is configured (SDK_SPOOL_DIR is read by ``config``)."""
    state = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return state / "exaworks-sdk" / "spool"


@dataclass(frozen=True)
class UploadSettings:
    url: str
    token: str | None = None
    spool_dir: Path = field(default_factory=default_spool_dir)
    ca_bundle: str | None = None  # None: requests' default, which honours REQUESTS_CA_BUNDLE
    retries: int = 5
    backoff: float = 1.0
    timeout: float = 60.0
    batch_size: int = 500

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + API_PATH


class State(enum.Enum):
    SENT = "sent"
    SPOOLED = "spooled"    # dashboard unreachable or 5xx: a later `sdk-test upload` resends it
    REJECTED = "rejected"  # 4xx: kept (spooled) and reported; someone must fix the cause


@dataclass
class FileOutcome:
    path: Path
    state: State
    detail: str = ""
    accepted: int = 0
    duplicates: int = 0
    runs: list[Any] = field(default_factory=list)
    spooled_at: Path | None = None


class _Unreachable(Exception):
    pass


class _Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def make_session(settings: UploadSettings) -> requests.Session:
    retry = Retry(total=settings.retries, connect=settings.retries, read=settings.retries,
                  status=settings.retries, other=0, backoff_factor=settings.backoff,
                  status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"POST"}),
                  raise_on_status=False, respect_retry_after_header=True)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "sdk-test"
    if settings.token:
        session.headers["Authorization"] = f"Bearer {settings.token}"
    if settings.ca_bundle:
        session.verify = settings.ca_bundle  # TLS verification is never switched off
    return session


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        text = f"{err.get('code', '')}: {err.get('message', '')}".strip(": ")
        if err.get("details"):
            text += f" ({err['details']})"
        return text
    return str(body)[:500]


def send_file(session: requests.Session, settings: UploadSettings, path: Path) -> FileOutcome:
    try:
        records = [r.to_dict() for r in read_records(path)]
    except (ValueError, OSError) as exc:  # pydantic's ValidationError is a ValueError
        raise _Rejected(0, f"cannot read {path}: {exc}") from None
    outcome = FileOutcome(path, State.SENT)
    for start in range(0, max(len(records), 1), settings.batch_size):
        batch = records[start:start + settings.batch_size]
        try:
            response = session.post(settings.endpoint, json={"records": batch}, timeout=settings.timeout)
        except requests.exceptions.SSLError as exc:
            raise _Unreachable(f"TLS verification failed ({exc}); pass --ca-bundle with the site's CA") from None
        except requests.exceptions.RequestException as exc:
            raise _Unreachable(f"cannot reach {settings.endpoint}: {_short(exc)}") from None
        if response.status_code >= 500:
            raise _Unreachable(f"{settings.endpoint} answered HTTP {response.status_code} "
                               f"after {settings.retries} retries: {_error_message(response)}")
        if response.status_code == 404:
            raise _Rejected(404, f"{settings.endpoint} does not exist ({_error_message(response)}): "
                                 f"SDK_DASHBOARD_URL must be the dashboard's base address, "
                                 f"e.g. https://dashboard.example.org")
        if response.status_code >= 400:
            raise _Rejected(response.status_code, _error_message(response))
        try:
            body = response.json()
            outcome.accepted += int(body["accepted"])
            outcome.duplicates += int(body.get("duplicates", 0))
            outcome.runs += list(body.get("runs", []))
        except (ValueError, KeyError, TypeError):
            raise _Rejected(response.status_code, f"unexpected answer: {response.text[:300]!r}") from None
    outcome.detail = f"{outcome.accepted} accepted, {outcome.duplicates} already there"
    return outcome


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "…"


def spool(path: Path, spool_dir: Path) -> Path:
    """Copy ``path`` into the spool (atomically: a half-copied file is never resent)."""
    target = spool_dir / path.name
    if path.resolve() == target.resolve():
        return target
    partial = spool_dir / f".{path.name}.partial"
    try:
        spool_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, partial)
        os.replace(partial, target)
    except OSError as exc:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        reason = "it exists and is not a directory" if spool_dir.exists() and not spool_dir.is_dir() else (
            exc.strerror or str(exc))
        raise HarnessError(f"cannot spool {path} into {spool_dir}: {reason}. The record is "
                           f"still at {path}; free space or set SDK_SPOOL_DIR, then run "
                           f"`sdk-test upload {path}`") from None
    return target


def _unspool(copy: Path) -> str:
    """Remove a sent file's spooled copy. One that cannot be removed (read-only spool) only
    comes back as duplicates next time, so it is noted, not an error: the records were sent."""
    try:
        copy.unlink(missing_ok=True)
    except OSError as exc:
        if not copy.exists():  # a read-only file system refuses even to unlink what is not there
            return ""
        return f"; could not remove the spooled copy {copy} ({exc.strerror or exc}), a later upload resends it"
    return ""


def spooled_files(spool_dir: Path) -> list[Path]:
    if not spool_dir.is_dir():
        return []
    return sorted(p for p in spool_dir.glob("*.jsonl") if not p.name.startswith("."))


def upload(paths: Iterable[Path], settings: UploadSettings, include_spool: bool = True) -> list[FileOutcome]:
    """Send each file, then (optionally) everything spooled. Never raises for a file it could not send.

    Once one file could not be delivered (unreachable, or 5xx after the retries and their
    Retry-After waits), the rest are spooled untried: each would only wait through the same.
    """
    files = [Path(p) for p in paths]
    if include_spool:
        seen = {p.name for p in files}
        files += [p for p in spooled_files(settings.spool_dir) if p.name not in seen]
    session = make_session(settings)
    outcomes = []
    failed_at: Path | None = None
    for path in files:
        in_spool = path.parent.resolve() == settings.spool_dir.resolve()
        try:
            if failed_at is not None:
                raise _Unreachable(f"not tried: the dashboard could not take {failed_at.name} just before")
            outcome = send_file(session, settings, path)
        except (_Unreachable, _Rejected) as exc:
            state = State.REJECTED if isinstance(exc, _Rejected) else State.SPOOLED
            outcome = FileOutcome(path, state, detail=str(exc))
            if state is State.SPOOLED and failed_at is None:
                failed_at = path
            if path.exists():
                try:
                    outcome.spooled_at = spool(path, settings.spool_dir)
                except HarnessError as error:  # say why it had to be spooled, too
                    raise HarnessError(f"{path.name} was not sent ({outcome.detail}) and {error}") from None
        else:  # sent: drop its spooled copy (a fresh file may have one from an earlier failed attempt)
            outcome.detail += _unspool(path if in_spool else settings.spool_dir / path.name)
        outcomes.append(outcome)
    return outcomes
