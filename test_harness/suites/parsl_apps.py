"""Parsl apps for the Parsl suites, in their own module so HTEX workers can import them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import parsl
from parsl import bash_app, python_app


@contextmanager
def loaded(config: Any) -> Iterator[Any]:
    """Load a Parsl config for the block, then shut its executors down and forget it."""
    kernel = parsl.load(config)
    try:
        yield kernel
    finally:
        kernel.cleanup()
        parsl.clear()


@python_app
def double(x: int) -> int:
    return 2 * x


@python_app
def add(a: int, b: int) -> int:
    return a + b


@python_app
def sum_all(*values: int) -> int:
    return sum(values)


@python_app
def pid() -> int:
    import os

    return os.getpid()


@python_app
def fail_with(message: str) -> None:
    raise ValueError(message)


@python_app
def word_count(inputs: list = ()) -> int:  # type: ignore[assignment]
    with open(inputs[0].filepath) as fh:
        return len(fh.read().split())


@bash_app
def shell(command: str, stdout: str | None = None, outputs: list = ()) -> str:  # type: ignore[assignment]
    return command
