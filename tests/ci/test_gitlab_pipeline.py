"""The rendered pipeline against GitLab's own CI schema and gitlab-ci-local's parser.

Both come from the gitlab-ci-local npm package (pinned in ci/scripts/pipeline/gitlab-ci-local.sh),
which vendors GitLab's ``app/assets/javascripts/editor/schema/ci.json``. The first use installs it
into ~/.cache/exaworks-sdk (about 10 s); without Node.js these tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from exaworks_sdk.manifest import load_sites

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "ci/scripts/pipeline/gitlab-ci-local.sh"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="needs Node.js and npm for gitlab-ci-local")]


def pipeline_files(root: Path) -> list[Path]:
    return [root / ".gitlab-ci.yml", *sorted((root / "ci/generated/gitlab").glob("*.yml"))]


@pytest.fixture(scope="module")
def ci_schema() -> dict:
    out = subprocess.run(["bash", str(TOOL), "--print-schema"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway git checkout holding the pipeline: gitlab-ci-local only includes tracked files."""
    work = tmp_path_factory.mktemp("checkout")
    for path in pipeline_files(ROOT):
        target = work / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-qm", "pipeline"]):
        subprocess.run(cmd, cwd=work, check=True, env=env)
    return work


def gcl(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(TOOL), *args], cwd=checkout, capture_output=True, text=True, timeout=300)


def test_every_file_validates_against_gitlabs_ci_schema(ci_schema: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft7Validator(ci_schema)
    problems = []
    for path in pipeline_files(ROOT):
        for error in validator.iter_errors(yaml.safe_load(path.read_text())):
            problems.append(f"{path.relative_to(ROOT)}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
    assert problems == []


def test_the_schema_check_catches_a_bad_job(ci_schema: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    bad = {"job": {"script": ["true"], "when": "sometimes", "id_tokens": {"T": {"audience": "x"}}}}
    assert len(list(jsonschema.Draft7Validator(ci_schema).iter_errors(bad))) >= 2


@pytest.mark.parametrize("facility", sorted(load_sites(ROOT)))
def test_gitlab_ci_local_lists_only_that_facilitys_jobs(checkout: Path, facility: str) -> None:
    result = gcl(checkout, "--list-json", "--variable", f"SDK_FACILITY={facility}")
    assert result.returncode == 0, result.stderr + result.stdout
    listed = json.loads(result.stdout[result.stdout.index("["):])
    active = {job["name"] for job in listed if job["when"] != "never"}
    sites = {f"{facility}-{m}" for m in load_sites(ROOT)[facility].machines}
    assert active and all(any(name.startswith(site + "-") for site in sites) for name in active), active
    chain = gcl(checkout, "--validate-dependency-chain", "--variable", f"SDK_FACILITY={facility}")
    assert chain.returncode == 0, chain.stderr + chain.stdout


def test_gitlab_ci_local_preview_resolves_extends_and_includes(checkout: Path) -> None:
    result = gcl(checkout, "--preview", "--variable", "SDK_FACILITY=local")
    assert result.returncode == 0, result.stderr
    preview = yaml.safe_load(result.stdout[result.stdout.index("---") if "---" in result.stdout else 0:])
    job = preview["local-linux-pip-test"]
    assert "extends" not in job
    assert job["stage"] == "test" and job["tags"] == ["exaworks-local", "shell"]
    assert job["variables"]["SDK_VARIANT"] == "pip" and job["variables"]["SDK_SITE"] == "local-linux"
    assert job["artifacts"]["reports"]["junit"] == "sdk-results/*.junit.xml"
    assert preview["local-linux-pip-cleanup"]["rules"] == [{"if": '$SDK_FACILITY == "local"', "when": "always"}]


def test_gitlab_ci_local_rejects_an_unresolved_needs(checkout: Path, tmp_path: Path) -> None:
    """The dependency check is real: break one ``needs`` and it fails."""
    broken = tmp_path / "broken"
    shutil.copytree(checkout, broken)
    path = broken / "ci/generated/gitlab/local.yml"
    path.write_text(path.read_text().replace("- local-linux-pip-install", "- local-linux-pip-nothing"))
    subprocess.run(["git", "commit", "-qam", "break"], cwd=broken, check=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    result = gcl(broken, "--list", "--variable", "SDK_FACILITY=local")
    assert result.returncode != 0 and "local-linux-pip-nothing" in result.stderr + result.stdout
