# shellcheck shell=bash
# Source me. private_checkout SRC DEST: a copy of the checkout SRC (uncommitted changes included)
# as a git repository of its own, for gitlab-ci-local, which runs shell jobs in its working
# directory and reads only tracked files. The copy never shares SRC's .git: in a git worktree
# .git is a file pointing at the shared repository, and git commands in the copy (add, remote
# add, symbolic-ref) would change that repository and the worktree's index.
private_checkout() {
  local src=$1 dest=$2
  rsync -a --exclude /.git --exclude /.venv --exclude "/.venv-*" --exclude /.gitlab-ci-local --exclude /sdk-results \
    --exclude node_modules --exclude /docs/_build --exclude __pycache__ "$src/" "$dest/"
  local git=(git -C "$dest" -c user.name=local-pipeline -c user.email=local-pipeline@localhost -c init.defaultBranch=main)
  "${git[@]}" init -q
  "${git[@]}" add -A
  "${git[@]}" commit -q -m "$(git -C "$src" log -1 --format='%h %s' 2>/dev/null || echo checkout) + local changes"
  # gitlab-ci-local derives CI_PROJECT_PATH and the default branch from origin.
  "${git[@]}" remote add origin https://gitlab.example.org/exaworks/sdk.git
  "${git[@]}" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
}
