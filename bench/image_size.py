"""Image size against its floor, from the sizes ``ci/scripts/docker-selftest.sh`` writes; never builds.

The floor is the least an image carrying this payload can weigh:

    floor = the base image (a debootstrap --variant=minbase: what debian:bookworm-slim is)
          + the venv /opt/sdk as shipped (the SDK's Python stack and the harness)
          + the installed size of the OS packages the payload needs at run time that the base
            lacks: the Python run time (python3.11 and what it depends on) and the MPI run-time
            libraries and launcher, found by bench/image_payload.py inside the image (ldd of the
            venv's binaries and of mpiexec, then the packages' dependency closure).

The figure is the python-stack image's size over that floor (target ≤ 1.15×). What the image
holds beyond the floor is listed by package, largest first: the measured cause of a miss. The
``sdk`` target (python-stack plus Flux and Swift/T) needs GitHub for its sources; where it was
not built, it is reported as such.

    python -m bench.image_size [--sizes PATH] [--brief]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SIZES = Path("/var/tmp/exaworks-docker/sizes.json")
TARGET = "python-stack"
MB = 1e6


def floor(sizes: dict[str, Any]) -> dict[str, Any] | None:
    """The floor's parts, or None where the sizes file lacks the base image or the payload."""
    base, payload = sizes.get("base_image"), sizes.get("payload")
    if not isinstance(base, dict) or not isinstance(payload, dict):
        return None
    in_base = set(base.get("packages", []))
    package_bytes: dict[str, int] = payload.get("package_bytes", {})
    runtime = sorted(set(payload.get("runtime_packages", [])) - in_base)
    runtime_bytes = sum(package_bytes.get(p, 0) for p in runtime)
    extra = {p: n for p, n in package_bytes.items() if p not in in_base and p not in runtime}
    return {"base_bytes": int(base["bytes"]), "venv_bytes": int(payload["venv_bytes"]),
            "runtime_packages_bytes": runtime_bytes, "runtime_packages": runtime,
            "bytes": int(base["bytes"]) + int(payload["venv_bytes"]) + runtime_bytes,
            "other_packages_bytes": sum(extra.values()),
            "other_packages": dict(sorted(extra.items(), key=lambda kv: -kv[1])[:15])}


def run(path: Path = SIZES) -> dict[str, Any]:
    if not path.exists():
        return {"status": "not measured in this run", "why": f"{path} does not exist"}
    data = json.loads(path.read_text())
    targets = data.get("targets", {})
    entry = targets.get(TARGET)
    if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int):
        return {"status": "not measured in this run", "why": f"{path} has no {TARGET} image size"}
    out: dict[str, Any] = {"image": entry.get("tag"), "combination": data.get("combination"),
                           "measured_at": data.get("measured_at"), "image_bytes": entry["bytes"],
                           "layers_bytes": {k: v.get("bytes") for k, v in targets.items()},
                           "sdk": ("measured" if "sdk" in targets else
                                   "not built here: its flux and swift-t stages download their sources from "
                                   "GitHub, which this machine cannot reach")}
    parts = floor(data)
    if parts is None:
        out.update(status="floor not measured",
                   why=f"{path} has no base_image and payload (ci/scripts/docker-selftest.sh writes them)")
    else:
        out.update(status="measured", floor=parts, floor_bytes=parts["bytes"],
                   ratio=round(entry["bytes"] / parts["bytes"], 3))
    return out


def brief(result: dict[str, Any]) -> str:
    if result.get("ratio") is None:
        return f"image / floor: {result['status']} ({result.get('why', '')})"
    f = result["floor"]
    lines = [f"image / floor: {result['image_bytes'] / MB:,.0f} MB / {f['bytes'] / MB:,.0f} MB = {result['ratio']:.2f}×"
             f" (target ≤ 1.15×)",
             f"  floor: base {f['base_bytes'] / MB:,.0f} MB + venv {f['venv_bytes'] / MB:,.0f} MB"
             f" + run-time packages {f['runtime_packages_bytes'] / MB:,.0f} MB ({len(f['runtime_packages'])})",
             f"  other packages beyond the base: {f['other_packages_bytes'] / MB:,.0f} MB: "
             + ", ".join(f"{p} {n / MB:.1f}" for p, n in list(f["other_packages"].items())[:8])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="python-stack image size against its floor.")
    parser.add_argument("--sizes", type=Path, default=SIZES)
    parser.add_argument("--brief", action="store_true", help="a few lines instead of JSON")
    args = parser.parse_args(argv)
    result = run(args.sizes)
    print(brief(result) if args.brief else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
