"""The failure digest (issue 18, part 4): ``sdk-dashboard digest`` run twice over realistic
history; new, persistent and fixed failures; sent to a local HTTP receiver and a local SMTP
receiver (never an outside address); the page and the JSON endpoint."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard_server import db
from dashboard_server.models import Digest
from tests.support.dashboard import facility_tokens
from tests.support.history import SPACK_PINNED, passing, run_at


class Receiver(BaseHTTPRequestHandler):
    """A Slack/Mattermost-style incoming webhook on loopback: keeps each JSON body."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class SMTPHandler(socketserver.StreamRequestHandler):
    """The few SMTP verbs smtplib sends, to debug mail on loopback: keeps each message."""

    def handle(self) -> None:
        def say(text: str) -> None:
            self.wfile.write((text + "\r\n").encode())

        say("220 localhost digest test")
        data: list[str] | None = None
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if data is not None:
                if line == ".":
                    self.server.messages.append("\n".join(data))  # type: ignore[attr-defined]
                    data = None
                    say("250 OK")
                else:
                    data.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb == "DATA":
                data = []
                say("354 end with .")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 localhost" if verb in ("EHLO", "HELO") else "250 OK")


@pytest.fixture
def receivers() -> Iterator[tuple[Any, Any]]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    http.posts = []  # type: ignore[attr-defined]
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    smtp.messages = []  # type: ignore[attr-defined]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (http, smtp)]
    for thread in threads:
        thread.start()
    yield http, smtp
    for server in (http, smtp):
        server.shutdown()
        server.server_close()


def digest(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["digest"])
    assert result.exit_code == 0, result.output
    return result.output


def test_new_persistent_and_fixed(app: Flask, client: FlaskClient, receivers: tuple[Any, Any]) -> None:
    http, smtp = receivers
    app.config.update(DASHBOARD_URL="https://sdk-dashboard.example.org",
                      DIGEST_WEBHOOK_URL=f"http://127.0.0.1:{http.server_address[1]}/hooks/abc",
                      DIGEST_SMTP_HOST="127.0.0.1", DIGEST_SMTP_PORT=smtp.server_address[1],
                      DIGEST_EMAIL_TO="sdk-maintainers@example.org")
    tokens = {**facility_tokens(app, "llnl"), **facility_tokens(app, "ornl")}
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=30, components=SPACK_PINNED,
           suites={**passing("parsl", "psij"), "parsl-flux": {"test_executor": "failed", "test_many": "passed"}})
    run_at(client, tokens["ornl-frontier"], "ornl-frontier", "spack", hours_ago=28, components=SPACK_PINNED,
           suites={**passing("parsl"), "flux": {"test_start": "failed"}})
    first = digest(app)
    assert "2 new, 0 persistent, 0 fixed" in first
    assert "llnl-dane spack parsl-flux::test_executor https://sdk-dashboard.example.org/runs/" in first

    # a day later: dane still fails, frontier's flux is fixed, dane's psij breaks
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=4, components=SPACK_PINNED,
           suites={"psij": {"test_cancel": "error"}, "parsl-flux": {"test_executor": "failed"}})
    run_at(client, tokens["ornl-frontier"], "ornl-frontier", "spack", hours_ago=3, components=SPACK_PINNED,
           suites=passing("flux"))
    second = digest(app)
    assert "1 new, 1 persistent, 1 fixed" in second

    body = client.get("/api/v1/digest").get_json()
    assert [(i["site"], i["suite"], i["test_id"]) for i in body["new"]] == [("llnl-dane", "psij", "test_cancel")]
    assert [(i["site"], i["suite"], i["test_id"]) for i in body["persistent"]] == [
        ("llnl-dane", "parsl-flux", "test_executor")]
    assert [(i["site"], i["suite"], i["test_id"]) for i in body["fixed"]] == [("ornl-frontier", "flux", "test_start")]
    assert body["since"] is not None

    assert len(http.posts) == 2 and http.posts[1]["text"] in second and "sent by webhook" in second
    assert http.posts[1]["digest"]["fixed"][0]["test_id"] == "test_start"
    assert len(smtp.messages) == 2
    mail = message_from_string(smtp.messages[1])
    assert mail["To"] == "sdk-maintainers@example.org" and "1 new, 1 persistent, 1 fixed" in mail["Subject"]
    assert "ornl-frontier spack flux::test_start" in mail.get_payload()

    page = client.get("/digest/").get_data(as_text=True)
    assert "Persistent (1)" in page and "test_executor" in page and "Fixed (1)" in page


def test_off_by_default_and_none_yet(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/digest").status_code == 404
    assert client.get("/digest/").status_code == 404
    output = digest(app)
    assert "0 new, 0 persistent, 0 fixed" in output
    assert client.get("/api/v1/digest").get_json()["new"] == []


def test_a_broken_suite_is_one_line_and_the_message_stays_postable(
        app: Flask, client: FlaskClient, receivers: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken install fails all 1,200 tests of one suite: the chat message says so in one line
    (a Mattermost post over 16,383 characters is refused), the digest lists and stores the first
    50 of them and says how many there are; and a digest still too long for one message ends with
    a link to the page."""
    http, _ = receivers
    app.config.update(DASHBOARD_URL="https://sdk-dashboard.example.org",
                      DIGEST_WEBHOOK_URL=f"http://127.0.0.1:{http.server_address[1]}/hooks/abc")
    tokens = facility_tokens(app, "llnl")
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=2, components=SPACK_PINNED,
           suites={"psij": {f"test_{n:04d}": "failed" for n in range(1200)},
                   "parsl": {"test_a": "failed", "test_b": "passed"}})
    digest(app)
    (post,) = http.posts
    text = post["text"]
    assert text.startswith("ExaWorks SDK dashboard digest: 51 new, 0 persistent, 0 fixed failures "
                           "(1 cells fail more tests than listed)")
    assert "- llnl-dane spack parsl::test_a https://sdk-dashboard.example.org/runs/" in text
    assert ("- llnl-dane spack psij: 50 tests of 1,200 failing (test_0000, test_0001, test_0002, …) "
            "https://sdk-dashboard.example.org/runs/") in text
    assert len(text) < 500
    body = post["digest"]
    assert [i["test_id"] for i in body["new"] if i["suite"] == "psij"] == [f"test_{n:04d}" for n in range(50)]
    (cut,) = body["cut"]
    assert {k: cut[k] for k in ("site", "variant", "suite", "failing", "listed")} == {
        "site": "llnl-dane", "variant": "spack", "suite": "psij", "failing": 1200, "listed": 50}
    with app.app_context():
        stored = db.session().scalar(select(Digest).order_by(Digest.id.desc()).limit(1))
        assert len(stored.failing) == 51 and len(json.dumps(stored.failing)) < 20_000
    page = client.get("/digest/").get_data(as_text=True)
    assert "These cells fail more tests than a digest lists" in page and "(50 of 1,200," in page

    # the same failures a day later are persistent, every listed one: the first 50 by name are stable
    digest(app)
    again = http.posts[1]["digest"]
    assert (len(again["new"]), len(again["persistent"]), len(again["fixed"])) == (0, 51, 0)

    monkeypatch.setattr("dashboard_server.digest.MAX_TEXT", 330)
    run_at(client, tokens["llnl-tioga"], "llnl-tioga", "pip", hours_ago=1, components=SPACK_PINNED,
           suites={"flux": {"test_a": "failed", "test_b": "failed"}, "mpi": {"test_ranks": "error"}})
    digest(app)
    text = http.posts[2]["text"]
    assert len(text) <= 330 and text.rstrip().endswith("more lines: https://sdk-dashboard.example.org/digest/")


def test_a_site_failing_everywhere_is_listed_in_turns_within_its_share(
        app: Flask, client: FlaskClient, receivers: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A site whose every suite fails (here 4 suites × 30 tests, with the site's share lowered to
    60 tests from 100) gets the first 15 tests of each suite listed, and is named with its
    numbers; another site's failure is listed whole. A day later one listed test of each broken
    suite passes: it reads as fixed, and the next failing test, listed in its place, as new. An
    hour later a fifth suite breaks, and the site's share is split five ways: the tests that drop
    out of the listing still fail, unlisted, and do not read as fixed."""
    http, _ = receivers
    app.config.update(DASHBOARD_URL="https://sdk-dashboard.example.org",
                      DIGEST_WEBHOOK_URL=f"http://127.0.0.1:{http.server_address[1]}/hooks/abc")
    monkeypatch.setattr("dashboard_server.digest.MAX_TESTS_PER_SITE", 60)
    tokens = facility_tokens(app, "llnl")
    broken = ("parsl", "psij", "flux", "mpi")
    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=30, components=SPACK_PINNED,
           suites={suite: {f"test_{n:02d}": "failed" for n in range(30)} for suite in broken})
    run_at(client, tokens["llnl-tioga"], "llnl-tioga", "pip", hours_ago=29, components=SPACK_PINNED,
           suites={"psij": {"test_cancel": "failed", "test_ok": "passed"}})
    digest(app)
    body = client.get("/api/v1/digest").get_json()
    listed: dict[str, list[str]] = {}
    for item in body["new"]:
        listed.setdefault(f"{item['site']} {item['suite']}", []).append(item["test_id"])
    assert listed == {**{f"llnl-dane {s}": [f"test_{n:02d}" for n in range(15)] for s in broken},
                      "llnl-tioga psij": ["test_cancel"]}
    assert body["crowded"] == [{"site": "llnl-dane", "failing": 120, "cells": 4, "listed": 60}]
    assert sorted((c["suite"], c["failing"], c["listed"]) for c in body["cut"]) == sorted(
        (s, 30, 15) for s in broken)
    text = http.posts[0]["text"]
    assert text.startswith("ExaWorks SDK dashboard digest: 61 new, 0 persistent, 0 fixed failures "
                           "(4 cells and 1 sites fail more tests than listed)")
    assert "- llnl-dane: 120 failing tests in 4 cells https://sdk-dashboard.example.org/sites/llnl-dane" in text
    assert "llnl-dane spack parsl" not in text and "- llnl-tioga pip psij::test_cancel" in text
    page = client.get("/digest/").get_data(as_text=True)
    assert "These sites fail more tests than a digest lists of one site" in page and "(60 of 120 in 4 cells)" in page
    new = page[page.index('id="new"'):page.index('id="persistent"')]
    assert "New (61)" in new and new.count("<tr") == 3  # the header, llnl-dane folded, llnl-tioga's test
    assert 'href="/digest/?site=llnl-dane">60 tests in 4 cells</a>' in new and "test_cancel" in new
    own = client.get("/digest/?site=llnl-dane").get_data(as_text=True)
    own_new = own[own.index('id="new"'):own.index('id="persistent"')]
    assert "New (60)" in own_new and own_new.count("<code>test_") == 60 and "test_cancel" not in own_new
    assert "New (0)" in client.get("/digest/?site=nowhere").get_data(as_text=True)

    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=2, components=SPACK_PINNED,
           suites={suite: {f"test_{n:02d}": "passed" if n == 0 else "failed" for n in range(30)} for suite in broken})
    digest(app)
    again = client.get("/api/v1/digest").get_json()
    assert {(i["site"], i["suite"], i["test_id"]) for i in again["fixed"]} == {("llnl-dane", s, "test_00") for s in broken}
    assert {(i["suite"], i["test_id"]) for i in again["new"]} == {(s, "test_15") for s in broken}
    assert len(again["persistent"]) == 4 * 14 + 1

    run_at(client, tokens["llnl-dane"], "llnl-dane", "spack", hours_ago=1, components=SPACK_PINNED,
           suites={suite: {f"test_{n:02d}": "passed" if n == 0 and suite != "swift-t" else "failed" for n in range(30)}
                   for suite in (*broken, "swift-t")})
    digest(app)
    third = client.get("/api/v1/digest").get_json()
    assert third["crowded"] == [{"site": "llnl-dane", "failing": 146, "cells": 5, "listed": 60}]
    assert third["fixed"] == []  # test_13 to test_15 of each broken suite: no longer listed, still failing
    assert {(i["suite"], i["test_id"]) for i in third["new"]} == {("swift-t", f"test_{n:02d}") for n in range(12)}
    assert len(third["persistent"]) == 4 * 12 + 1
