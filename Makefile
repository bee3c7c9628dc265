# Two commands do all the set-up on a fresh Debian machine (run as root or with sudo):
#   make demo   the main job: a local dashboard on SQLite with the local suites run and uploaded
#   make test   everything CI runs
VENV := .venv
BIN  := $(VENV)/bin

.PHONY: setup demo test render check docs bench

setup:
	bash ci/scripts/system-deps.sh
	bash ci/scripts/python-env.sh

render: setup
	$(BIN)/sdk render

check: setup
	$(BIN)/sdk validate
	$(BIN)/sdk render --check

demo: setup
	bash ci/scripts/demo.sh

test: setup
	bash ci/scripts/test.sh

docs: setup
	$(BIN)/sphinx-build -W --keep-going -n -q docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

bench: setup
	$(BIN)/python -m bench
