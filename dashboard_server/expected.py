"""The cells the site registry expects, as a deployed dashboard knows them: ``generated/expected.txt``.

``sdk render`` writes one line per machine × install variant × suite of the registry
(``exaworks_sdk.manifest.expected.expected_cells``): site id, variant, suite, and the machine's
stated reason when the suite cannot run there (empty when the cell is required). The summary shows
a required cell that never reported as "missing" and an excluded one as not applicable, for every
registry site the dashboard knows (``sdk-dashboard sites sync``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

EXPECTED_FILE = Path(__file__).parent / "generated" / "expected.txt"
Row = tuple[str, str]  # (site, variant)


def line(site: str, variant: str, suite: str, excluded: str | None) -> str:
    return "\t".join([site, variant, suite, " ".join((excluded or "").split())])


@lru_cache(maxsize=1)
def expected() -> dict[Row, dict[str, str | None]]:
    """(site, variant) → suite → None (required) or why it cannot run there; registry order."""
    out: dict[Row, dict[str, str | None]] = {}
    if not EXPECTED_FILE.exists():
        return out
    for text in EXPECTED_FILE.read_text(encoding="utf-8").splitlines():
        if not text.strip() or text.startswith("#"):
            continue
        site, variant, suite, reason = (text.split("\t") + ["", "", "", ""])[:4]
        out.setdefault((site, variant), {})[suite] = reason.strip() or None
    return out


def variants_of(site: str) -> list[str]:
    return [variant for (name, variant) in expected() if name == site]
