"""A validated manifest kept between processes, for ``sdk-test run``'s start-up.

Parsing and validating the manifest's files, with PyYAML, packaging and the models' validators
imported for it, was a third of the CPU ``sdk-test run`` spent before its first suite. The same
bytes give the same manifest, so the harness asks :func:`exaworks_sdk.manifest.load_manifest`
for a cached one (``cache_dir``); ``sdk validate``, ``sdk render`` and the dashboard always load
and validate.

The key is a sha256 over every file the loader reads (``components/*.yaml``, ``POLICIES.md``),
the source of the model and the loader, and the versions of Python, pydantic, PyYAML and
packaging. Any change to any of them is a miss, and a miss is a full load: a manifest with
problems reports every one of them, as always, and is never stored. Entries are pickles (the
models build their validators only when they validate, so reading one back needs none of
that), one file per SDK checkout in this user's cache directory, replaced atomically; a file
that is not this user's, or that cannot be read back, is a miss.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exaworks_sdk.manifest.model import Manifest

_VERSIONS = ("pydantic", "PyYAML", "packaging")


def default_cache_dir(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "exaworks-sdk"


def inputs(root: Path) -> list[Path]:
    """Every file ``load_manifest`` reads, in a fixed order."""
    return [*sorted((root / "components").glob("*.yaml")), root / "POLICIES.md"]


def key(root: Path, code: list[Path]) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in _VERSIONS:
        try:
            digest.update(f"\0{name}={importlib.metadata.version(name)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"\0{name}=none".encode())
    for path in [*code, *inputs(root)]:
        digest.update(f"\0{path.name}\0".encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0missing")
    return digest.hexdigest()


def _entry(cache_dir: Path, root: Path) -> Path:
    checkout = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"manifest-{checkout}.pickle"


def read(cache_dir: Path, root: Path, wanted: str) -> Manifest | None:
    from exaworks_sdk.manifest.model import Manifest

    try:
        with _entry(cache_dir, root).open("rb") as fh:
            if hasattr(os, "getuid") and os.fstat(fh.fileno()).st_uid != os.getuid():
                return None  # only this user's own entries are unpickled
            stored_key, manifest = pickle.load(fh)
    except Exception:  # missing, truncated, or from other code: a miss, never an error
        return None
    return manifest if stored_key == wanted and isinstance(manifest, Manifest) else None


def write(cache_dir: Path, root: Path, wanted: str, manifest: Manifest) -> None:
    """Store the entry atomically; a cache that cannot be written is skipped silently."""
    tmp: str | None = None
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".manifest-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((wanted, manifest), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, _entry(cache_dir, root))
        tmp = None
    except (OSError, pickle.PicklingError):
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
