"""The scripts the generated jobs call: they exist, parse, and guard what they delete.

The end-to-end run of install → test → cleanup is ci/scripts/local-pipeline.sh.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from exaworks_sdk.manifest import load_manifest, load_sites
from exaworks_sdk.render.ci import pipeline_ir

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "ci/scripts/pipeline"
SCRIPTS = [*sorted(PIPELINE.glob("*.sh")), *sorted((ROOT / "ci/scripts").glob("*-pipeline.sh")),
           *sorted((ROOT / "ci/scripts/lib").glob("*.sh"))]


def run(script: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SDK_", "CI_", "DOCKER_HOST"))}
    return subprocess.run(["bash", str(PIPELINE / script)], env={**clean, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_every_script_a_job_calls_exists() -> None:
    ir = pipeline_ir(load_manifest(ROOT), load_sites(ROOT))
    called = {line.split()[-1] for job in ir["jobs"].values() for line in job["script"]}
    assert called == {f"ci/scripts/pipeline/{n}.sh" for n in ("install", "test", "cleanup", "publish-image")}
    for path in called:
        assert (ROOT / path).is_file(), path


def test_cleanup_removes_only_its_own_variant(tmp_path: Path) -> None:
    site_dir = tmp_path / "exaworks-sdk-ci/1234/local-linux"
    (site_dir / "pip/venv/bin").mkdir(parents=True)
    (site_dir / "container").mkdir()
    readonly = site_dir / "pip/venv/bin/tool"
    readonly.write_text("x")
    readonly.chmod(0o444)
    env = {"SDK_SITE": "local-linux", "SDK_VARIANT": "pip", "SDK_PIPELINE_DIR": str(site_dir)}
    result = run("cleanup.sh", env)
    assert result.returncode == 0, result.stderr
    assert not (site_dir / "pip").exists() and (site_dir / "container").is_dir()
    env["SDK_VARIANT"] = "container"
    assert run("cleanup.sh", env).returncode == 0
    assert not (tmp_path / "exaworks-sdk-ci/1234").exists()


def test_scripts_refuse_a_pipeline_dir_that_is_not_per_pipeline(tmp_path: Path) -> None:
    victim = tmp_path / "home"
    (victim / "pip").mkdir(parents=True)
    result = run("cleanup.sh", {"SDK_SITE": "local-linux", "SDK_VARIANT": "pip", "SDK_PIPELINE_DIR": str(victim)})
    assert result.returncode == 2 and "does not look like" in result.stdout + result.stderr
    assert (victim / "pip").is_dir()


def test_test_job_fails_clearly_without_an_install(tmp_path: Path) -> None:
    env = {"SDK_SITE": "local-linux", "SDK_VARIANT": "pip",
           "SDK_PIPELINE_DIR": str(tmp_path / "exaworks-sdk-ci/1/local-linux")}
    result = run("test.sh", env)
    assert result.returncode == 2 and "did the install job run" in result.stdout + result.stderr


def test_publish_tags_the_default_image_latest() -> None:
    ir = pipeline_ir(load_manifest(ROOT), load_sites(ROOT))
    job = ir["jobs"]["publish-images"]
    for image, entry in zip(job["images"], job["matrix"], strict=True):
        result = run("publish-image.sh", {**job["variables"], **entry, "SDK_DRY_RUN": "1", "DOCKER_HOST": "unix:///x"})
        assert result.returncode == 0, result.stderr
        pushed = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("+ docker push")]
        assert pushed == image["tags"]
        assert f"--build-arg BASE_IMAGE={image['base_image']}" in result.stdout
        assert "docker/build.sh --target sdk" in result.stdout


def test_private_checkout_leaves_the_source_repository_alone(tmp_path: Path) -> None:
    """The gitlab-ci-local scripts copy the checkout; from a git worktree (whose .git is a file
    pointing at the shared repository) the copy's git commands must not reach that repository."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    git = lambda *args, cwd: subprocess.run(["git", *args], cwd=cwd, env=env, check=True,  # noqa: E731
                                            capture_output=True, text=True).stdout
    main, worktree, copy = tmp_path / "main", tmp_path / "wt", tmp_path / "copy"
    main.mkdir()
    git("init", "-q", "-b", "main", cwd=main)
    (main / "file.txt").write_text("one\n")
    git("add", "-A", cwd=main)
    git("commit", "-qm", "one", cwd=main)
    git("worktree", "add", "-q", "-b", "work", str(worktree), cwd=main)
    (worktree / "new.txt").write_text("uncommitted\n")
    before = (git("config", "--list", "--local", cwd=main), git("for-each-ref", cwd=main),
              git("status", "--porcelain", cwd=worktree))
    script = f'source "{ROOT}/ci/scripts/lib/checkout.sh"; private_checkout "{worktree}" "{copy}"'
    subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True)
    after = (git("config", "--list", "--local", cwd=main), git("for-each-ref", cwd=main),
             git("status", "--porcelain", cwd=worktree))
    assert after == before
    assert (copy / ".git").is_dir() and (copy / "new.txt").read_text() == "uncommitted\n"
    assert git("ls-files", cwd=copy).split() == ["file.txt", "new.txt"]
    assert "gitlab.example.org" in git("remote", "get-url", "origin", cwd=copy)
