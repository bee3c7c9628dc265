"""Helpers the tests share: uploads and fixtures (``dashboard``), a real dashboard server process
(``live_server``), hostile inputs (``attacks``) and database faults (``faults``)."""
