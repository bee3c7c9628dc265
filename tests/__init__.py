"""The project's tests. A package so that their shared helpers import as ``tests.support``."""
