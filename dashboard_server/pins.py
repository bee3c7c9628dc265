"""The manifest's pins as a deployed dashboard knows them: ``generated/pins.txt``.

``sdk render`` writes the file from the manifest (``describe.py``, through
``exaworks_sdk.manifest.expected.pin_rows``) and it ships inside the package. The compatibility
matrix highlights the version sets that match a variant's pins, and its exports need each
component's pip and Spack package names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PINS_FILE = Path(__file__).parent / "generated" / "pins.txt"


@dataclass(frozen=True)
class Pin:
    component: str
    variant: str
    version: str
    normalized: str
    pip_name: str
    spack_name: str

    def line(self) -> str:
        return "\t".join([self.component, self.variant, self.version, self.normalized, self.pip_name,
                          self.spack_name])

    @classmethod
    def parse(cls, line: str) -> Pin:
        fields = (line.split("\t") + [""] * 6)[:6]
        return cls(*(f.strip() for f in fields))


@lru_cache(maxsize=1)
def all_pins() -> tuple[Pin, ...]:
    if not PINS_FILE.exists():
        return ()
    lines = PINS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(Pin.parse(line) for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def pins_by_variant() -> dict[str, dict[str, Pin]]:
    """variant → component → pin; built once and shared, so never changed by a caller (the matrix
    asks for each of its hundreds of version sets)."""
    out: dict[str, dict[str, Pin]] = {}
    for pin in all_pins():
        out.setdefault(pin.variant, {})[pin.component] = pin
    return out


@lru_cache(maxsize=1)
def package_names() -> dict[str, tuple[str, str]]:
    """component → (pip name, Spack name), either possibly empty: what the exports write. Built
    once and shared, as ``pins_by_variant``."""
    out: dict[str, tuple[str, str]] = {}
    for pin in all_pins():
        pip, spack = out.get(pin.component, ("", ""))
        out[pin.component] = (pip or pin.pip_name, spack or pin.spack_name)
    return out
