"""The rendered Dockerfiles parse, have the named targets and carry the manifest's versions and sha256s."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from exaworks_sdk.manifest import Manifest, load_manifest
from exaworks_sdk.render import check, render_all
from exaworks_sdk.render.docker import IMAGE_TARGETS, dockerfile, image_ir
from exaworks_sdk.render.pip import requirements_path

TARGETS = {"base", "build-base", "mpi4py", "wheels", "python-env", "python-stack", "flux", "swift-t", "sdk"}


@pytest.fixture(scope="module")
def manifest(repo_root: Path) -> Manifest:
    return load_manifest(repo_root)


def _parse(path: Path) -> DockerfileParser:
    parser = DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))
    assert parser.structure, path
    return parser


def _stages(parser: DockerfileParser) -> dict[str, list[dict]]:
    """Instructions per stage name (``FROM x AS name``)."""
    stages: dict[str, list[dict]] = {}
    current = None
    for instr in parser.structure:
        if instr["instruction"] == "FROM":
            words = instr["value"].split()
            current = words[2] if len(words) == 3 and words[1].upper() == "AS" else words[0]
            stages[current] = []
        elif current is not None:
            stages[current].append(instr)
    return stages


def _text(instrs: list[dict]) -> str:
    return "\n".join(i["value"] for i in instrs)


def _labels(instrs: list[dict]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for i in instrs:
        if i["instruction"] == "LABEL":
            for word in shlex.split(i["value"].replace("\\\n", " ")):
                key, _, value = word.partition("=")
                labels[key] = value
    return labels


@pytest.fixture(params=["bookworm", "rocky9"])
def os_id(request: pytest.FixtureRequest, manifest: Manifest) -> str:
    assert request.param in manifest.release.images.os
    return request.param


def test_one_dockerfile_per_os_with_the_named_targets(repo_root: Path, manifest: Manifest, os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    assert TARGETS <= stages.keys()
    spec = manifest.release.images.os[os_id]
    assert {f"python-{py}" for py in spec.python if py in manifest.release.images.python} <= stages.keys()
    assert {f"mpi-{m}" for m in manifest.release.images.mpi} <= stages.keys()


def test_build_args_default_to_the_matrix_default(repo_root: Path, manifest: Manifest) -> None:
    default = manifest.release.images.default
    parser = _parse(repo_root / f"docker/Dockerfile.{default['os']}")
    first_from = next(n for n, i in enumerate(parser.structure) if i["instruction"] == "FROM")
    args = dict(i["value"].split("=", 1) for i in parser.structure[:first_from] if i["instruction"] == "ARG")
    assert args["MPI"] == default["mpi"]
    assert args["PYTHON_VERSION"] == default["python"]
    assert args["BASE_IMAGE"] == manifest.release.images.os[default["os"]].image.split("#")[0].strip()


def test_mpi_and_python_packages_come_from_the_matrix(repo_root: Path, manifest: Manifest, os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    spec = manifest.release.images.os[os_id]
    for mpi, packages in spec.mpi_packages.items():
        assert all(p in _text(stages[f"mpi-{mpi}"]).split() for p in packages), mpi
    for py, package in spec.python.items():
        assert package in _text(stages[f"python-{py}"]).split()
        assert f"python{py} -m venv /opt/sdk" in _text(stages[f"python-{py}"])


def test_mpi_dev_packages_and_compilers_stay_in_build_stages(repo_root: Path, manifest: Manifest, os_id: str) -> None:
    """The -dev packages pull in gcc, g++ and gfortran: build-base installs the chosen MPI's, and no
    shipped stage installs any."""
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    spec = manifest.release.images.os[os_id]
    build = _text(stages["build-base"])
    shipped = ("os", "base", "python-env", "python-stack", "sdk", *[s for s in stages if s.startswith(("python-", "mpi-"))])
    for mpi, dev in spec.mpi_dev_packages.items():
        assert f'{mpi}) mpi_dev="{" ".join(dev)}"' in build, mpi
        for target in shipped:
            assert not set(dev) & set(_text(stages[target]).split()), (target, dev)
    assert "$mpi_dev" in build


def test_shipped_layers_leave_no_downloads_or_test_suites(repo_root: Path, manifest: Manifest, os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    if manifest.release.images.os[os_id].family == "debian":
        for instr in stages["os"]:
            if instr["instruction"] == "RUN":
                assert "/var/cache/apt/*" in instr["value"] and "/var/lib/dpkg/*-old" in instr["value"]
    assert "-name tests -path '*/site-packages/*' -exec rm -rf {} +" in _text(stages["python-env"])


def test_openmpi_images_may_run_as_root(repo_root: Path, os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    env = [i["value"] for i in stages["mpi-openmpi"] if i["instruction"] == "ENV"]
    assert any("OMPI_ALLOW_RUN_AS_ROOT=1" in e and "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" in e for e in env)
    assert "OMPI_ALLOW_RUN_AS_ROOT" not in _text(stages["mpi-mpich"])


def test_sources_are_fetched_and_checked_in_their_stage_in_order(repo_root: Path, manifest: Manifest,
                                                                 os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    for comp in manifest.components.values():
        if not comp.image.sources:
            continue
        text = _text(stages[comp.image.stage])
        positions = []
        for src in comp.image.sources:
            assert str(src.url) in text, src.name
            assert f'echo "{src.sha256}  {src.name}.tar.gz" | sha256sum -c -' in text, src.name
            positions.append(text.index(str(src.url)))
            for other in TARGETS - {comp.image.stage}:
                assert src.sha256 not in _text(stages.get(other, [])), (src.name, other)
        assert positions == sorted(positions), f"{comp.name}: sources must build in manifest order"


def test_mpi4py_has_its_own_stage_and_is_filtered_from_the_wheels(repo_root: Path, manifest: Manifest) -> None:
    stages = _stages(_parse(repo_root / "docker/Dockerfile.bookworm"))
    pin = manifest.component("mpi4py").pip.requirements[0]  # type: ignore[union-attr]
    assert f"--no-binary mpi4py --no-deps --wheel-dir /wheels {pin}" in _text(stages["mpi4py"])
    wheels = _text(stages["wheels"])
    assert "/^mpi4py[=[ ]/d" in wheels and "/^--no-binary/d" in wheels
    assert "COPY" in [i["instruction"] for i in stages["wheels"]]


def test_requirements_filter_keeps_the_rest_of_the_stack(repo_root: Path) -> None:
    """Apply the rendered sed expressions to ci/generated/pip/requirements.txt, as the wheels stage does."""
    stages = _stages(_parse(repo_root / "docker/Dockerfile.bookworm"))
    exprs = re.findall(r"-e '/\^(.+?)/d'", _text(stages["wheels"]))
    lines = (repo_root / "ci/generated/pip/requirements.txt").read_text().splitlines()
    kept = [ln for ln in lines if not any(re.match(e.replace("[=[ ]", "[=\\[ ]"), ln) for e in exprs)]
    assert not any(ln.startswith(("mpi4py", "--no-binary")) for ln in kept)
    assert any(ln.startswith("parsl[radical-pilot]==") for ln in kept)
    assert any(ln.startswith("radical.pilot==") for ln in kept)


def test_labels_carry_release_revision_and_component_versions(repo_root: Path, manifest: Manifest,
                                                              os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    for target in ("python-stack", "sdk"):
        labels = _labels(stages[target])
        assert labels["org.opencontainers.image.version"] == manifest.release.version
        assert labels["org.opencontainers.image.revision"] == "${SDK_REVISION}"
        assert labels["org.exaworks.sdk.mpi"] == "${MPI}"
        assert labels["org.exaworks.sdk.python"] == "${PYTHON_VERSION}"
        assert labels["org.exaworks.sdk.os"] == os_id
    sdk = _labels(stages["sdk"])
    for comp in manifest.components.values():
        if comp.image.stage in ("python-stack", "flux", "swift-t"):
            version = comp.pip.version if comp.pip else comp.version
            assert sdk[f"org.exaworks.sdk.component.{comp.name}.version"] == version
    assert "org.exaworks.sdk.component.flux-core.version" not in _labels(stages["python-stack"])


def test_the_image_runs_the_harness_smoke_suites(repo_root: Path, os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    stack = stages["python-stack"]
    assert [i["value"] for i in stack if i["instruction"] == "CMD"] == ['["sdk-smoke"]']
    assert "SDK_ROOT=/opt/sdk-root" in _text([i for i in stack if i["instruction"] == "ENV"])
    copied = _text([i for i in stack if i["instruction"] == "COPY"])
    assert "components/" in copied and "POLICIES.md" in copied and "docker/sdk-smoke.sh" in copied
    ignore = (repo_root / f"docker/Dockerfile.{os_id}.dockerignore").read_text().splitlines()
    for needed in ("!components/", "!POLICIES.md", "!pyproject.toml", "!test_harness/", "!docker/sdk-smoke.sh"):
        assert needed in ignore


def test_no_caches_or_secrets_in_shipped_stages(repo_root: Path, os_id: str) -> None:
    stages = _stages(_parse(repo_root / f"docker/Dockerfile.{os_id}"))
    for target in ("os", "base", "python-env", "python-stack", "sdk", *[s for s in stages if s.startswith(("python-", "mpi-"))]):
        for instr in stages[target]:
            if instr["instruction"] != "RUN":
                continue
            assert "id=extra_ca" not in instr["value"], (target, instr["value"][:60])
            if "install -y" in instr["value"]:
                assert "clean all" in instr["value"] or "rm -rf /var/lib/apt/lists/*" in instr["value"], target


def test_a_sha256_edit_fails_the_drift_check(sdk_tree: Path) -> None:
    path = sdk_tree / "components/swift-t.yaml"
    old = load_manifest(sdk_tree).component("swift-t").image.sources[0].sha256
    path.write_text(path.read_text().replace(old, "a" * 64))
    problems = check(sdk_tree)
    assert any(p.startswith("docker/Dockerfile.bookworm: out of date") and "a" * 64 in p for p in problems)
    render_all(sdk_tree)
    assert check(sdk_tree) == []


def test_a_source_without_a_build_recipe_is_an_error(manifest: Manifest) -> None:
    comp = manifest.component("swift-t")
    sources = [*comp.image.sources, comp.image.sources[0].model_copy(update={"name": "mystery"})]
    changed = comp.model_copy(update={"image": comp.image.model_copy(update={"sources": sources})})
    broken = manifest.model_copy(update={"components": {**manifest.components, "swift-t": changed}})
    with pytest.raises(ValueError, match="no build recipe for source 'mystery'"):
        dockerfile(broken, "bookworm")


def test_ir_runtime_packages_skip_headers_and_build_tools(manifest: Manifest) -> None:
    flux = next(s for s in image_ir(manifest, "bookworm")["source_stages"] if s["name"] == "flux")
    assert "lua-posix" in flux["runtime_packages"]
    assert not [p for p in flux["runtime_packages"] if p.endswith("-dev") or p in ("cmake", "autoconf")]


def test_images_env_lists_the_matrix_and_spells_tags_as_the_model_does(repo_root: Path, manifest: Manifest) -> None:
    release = manifest.release
    wanted = [(c["os"], c["mpi"], c["python"], target)
              for c in release.images.combinations() for target in IMAGE_TARGETS]
    script = ("source docker/images.env\n" 'echo "$SDK_COMBINATIONS"\n'
              'echo "$SDK_DEFAULT_OS $SDK_DEFAULT_MPI $SDK_DEFAULT_PYTHON"\n'
              + "".join(f"sdk_image_tag {o} {m} {p} {t}\n" for o, m, p, t in wanted)
              + "sdk_image_tag nope mpich 3.11 || echo refused\n")
    out = subprocess.run(["bash", "-c", script], cwd=repo_root, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].split() == [f"{c['os']}-{c['mpi']}-{c['python']}" for c in release.images.combinations()]
    default = release.images.default
    assert out[1].split() == [default["os"], default["mpi"], default["python"]]
    assert out[2:-1] == [release.image_tag(o, m, p, t) for o, m, p, t in wanted]
    assert out[-1] == "refused"


def test_flux_stage_builds_bindings_against_the_stacks_pins(manifest: Manifest) -> None:
    flux = next(s for s in image_ir(manifest, "bookworm")["source_stages"] if s["name"] == "flux")
    pins = [c.requirement for c in manifest.component("flux-core").constraints if "==" in c.requirement]
    assert {"cffi==2.1.1", "PyYAML==6.0.4"} <= set(pins)
    assert flux["python_build"] == ["ply", *pins]
    text = (Path(__file__).parents[2] / requirements_path("sdk")).read_text()
    for pin in pins:  # the sdk stage installs nothing more: the stack has the same pins
        assert f"\n{pin}  #" in text, pin
    configure = next(s for s in flux["sources"] if s["name"] == "flux-core")["steps"][0]
    assert configure.startswith("PYTHON=/opt/sdk/bin/python ./configure"), configure


def test_swift_t_modules_find_mpi_through_the_compiler_wrapper(manifest: Manifest) -> None:
    stage = next(s for s in image_ir(manifest, "bookworm")["source_stages"] if s["name"] == "swift-t")
    (source,) = stage["sources"]
    assert source["version"] == manifest.component("swift-t").version
    turbine = next(step for step in source["steps"] if "turbine/code" in step)
    assert "CC=mpicc" in turbine and "--with-mpi" not in turbine, turbine
    order = [re.match(r"\(cd (\S+)/code ", step).group(1) for step in source["steps"]]  # type: ignore[union-attr]
    assert order == ["c-utils", "lb", "turbine", "stc"], "modules build in dependency order"
