"""ExaWorks SDK test harness: run component and integration suites, record, upload.

The flow is ``suites`` (what suites exist) → ``registry.select`` (which to run) →
``detect`` (which components are here) → ``runner`` (one pytest subprocess per
suite, writing ``exaworks_sdk.records``) → ``upload`` (a separate, retryable step).
"""
