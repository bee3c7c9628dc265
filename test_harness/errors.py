"""Harness errors carry their exit code; ``cli.main`` catches them once."""

from __future__ import annotations


class HarnessError(Exception):
    """Something the user must fix; printed without a traceback."""

    exit_code = 1


class ConfigError(HarnessError):
    """Bad flags, environment variables, config file or manifest."""

    exit_code = 2


class NothingToDo(HarnessError):
    """The selection matched no suite, or there is nothing to upload."""

    exit_code = 3


class UploadRejected(HarnessError):
    """The dashboard answered 4xx: retrying will not help until someone fixes the cause."""

    exit_code = 4


class UploadDeferred(HarnessError):
    """The dashboard could not be reached; the record waits in the spool for a later upload.

    75 is EX_TEMPFAIL, so CI can allow it (GitLab: ``allow_failure: exit_codes: [75]``).
    """

    exit_code = 75
