"""Helpers for suites that use Flux: its Python bindings live in Flux's prefix, not in the venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys


def flux_pythonpath() -> str:
    """The PYTHONPATH that ``flux env`` exports (where Flux's bindings are installed)."""
    flux = shutil.which("flux")
    assert flux, "flux is not on PATH"
    text = subprocess.run([flux, "env"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r'PYTHONPATH="?([^"\n]*)"?', text)
    return match.group(1) if match else ""


def import_flux() -> object:
    """``import flux``, adding Flux's own site-packages when the venv does not have them."""
    try:
        import flux  # noqa: F401
    except ImportError:
        for path in reversed(flux_pythonpath().split(os.pathsep)):
            if path and path not in sys.path:
                sys.path.insert(0, path)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (flux_pythonpath(), os.environ.get("PYTHONPATH", "")) if p)
    import flux

    return flux
