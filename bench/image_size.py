"""Image size against installed payload, from the sizes the Docker build writes.

``docker/build.sh`` measures images on its own daemon and writes
``/var/tmp/exaworks-docker/sizes.json``; this benchmark only reads it (it never builds or talks
to a daemon). The ratio needs the payload too: ``payload_bytes`` of the python-stack target, or
``site_packages_bytes`` + ``mpi_bytes``. Without them the image size is reported alone.

    python -m bench.image_size [--sizes PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SIZES = Path("/var/tmp/exaworks-docker/sizes.json")
TARGET = "python-stack"


def _payload(entry: dict[str, Any]) -> int | None:
    if isinstance(entry.get("payload_bytes"), int):
        return int(entry["payload_bytes"])
    parts = [entry.get("site_packages_bytes"), entry.get("mpi_bytes")]
    if all(isinstance(p, int) for p in parts):
        return sum(parts)  # type: ignore[arg-type]
    return None


def run(path: Path = SIZES) -> dict[str, Any]:
    if not path.exists():
        return {"status": "not measured in this run", "why": f"{path} does not exist"}
    data = json.loads(path.read_text())
    entry = data.get("targets", {}).get(TARGET)
    if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int):
        return {"status": "not measured in this run", "why": f"{path} has no {TARGET} image size"}
    out: dict[str, Any] = {"image": entry.get("tag"), "combination": data.get("combination"),
                           "measured_at": data.get("measured_at"), "image_bytes": entry["bytes"],
                           "layers_bytes": {k: v.get("bytes") for k, v in data.get("targets", {}).items()}}
    payload = _payload(entry)
    if payload is None:
        out.update(status="payload not measured",
                   why=f"{path} gives image sizes only (no payload_bytes or site_packages_bytes + mpi_bytes)")
    else:
        out.update(status="measured", payload_bytes=payload, ratio=round(entry["bytes"] / payload, 3))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="python-stack image size against its installed payload.")
    parser.add_argument("--sizes", type=Path, default=SIZES)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.sizes), indent=1))


if __name__ == "__main__":
    main()
