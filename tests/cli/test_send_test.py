"""``alertd send-test CHANNEL`` against a local server speaking each channel type's protocol.

Every channel type gets one in-process run of the real CLI (``alertd.cli.main.main``) that must exit 0, print the
service's answer and make exactly one request of that service's shape. Email and one failure also run as real
subprocesses, so process settings from the environment and the one-line error on stderr are covered end to end.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import trustme
from aiosmtpd.controller import Controller
from support.receiver import Receiver, Recorded
from support.slack_api import TOKEN as SLACK_TOKEN
from support.slack_api import SlackApi

from alertd.channels import REGISTRY
from alertd.cli.main import main

TELEGRAM_TOKEN = "123456:AAF-t0k3n_xyz"
PAGERDUTY_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey00"
NTFY_TOPIC = "alertd-s3cr3t-topic"
SLACK_CHANNEL = "C0123ABCD"
MAIL_TO = "ops@example.org"
MAIL_FROM = "Alerts <alertd@example.org>"


# --- servers: one recording HTTP receiver, the Slack Web API fake, an SMTP server with required STARTTLS ---


@pytest.fixture
def slack_api() -> Iterator[SlackApi]:
    server = SlackApi()
    server.start_in_thread()
    yield server
    server.close()


@dataclass
class Mailbox:
    """What the SMTP server accepted: (envelope recipients, raw message) per mail."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def mails(self) -> list[tuple[list[str], EmailMessage]]:
        with self.lock:
            received = list(self.received)
        out: list[tuple[list[str], EmailMessage]] = []
        for rcpts, raw in received:
            mail = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(mail, EmailMessage)
            out.append((rcpts, mail))
        return out


@dataclass(frozen=True)
class Smtp:
    mailbox: Mailbox
    port: int
    ca_file: Path

    def environ(self) -> dict[str, str]:
        """The process settings that point alertd at this server, its private CA trusted."""
        return {
            "ALERTD_SMTP_HOST": "127.0.0.1",
            "ALERTD_SMTP_PORT": str(self.port),
            "ALERTD_SMTP_TLS": "starttls",
            "ALERTD_SMTP_CA_FILE": str(self.ca_file),
            "ALERTD_SMTP_FROM": MAIL_FROM,
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    """aiosmtpd on 127.0.0.1 that refuses mail before STARTTLS, with a certificate from a private CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    mailbox = Mailbox()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=_free_port(), tls_context=context, require_starttls=True
    )
    controller.start()
    yield Smtp(mailbox, controller.port, ca_file)
    controller.stop()


# --- running the CLI ---


def _write_calendar(path: Path, channels: Mapping[str, Mapping[str, Any]]) -> Path:
    # JSON is valid YAML, and it quotes every URL and token correctly without a template.
    path.write_text(
        json.dumps({"version": 1, "timezone": "UTC", "channels": channels, "events": []}, indent=2), encoding="utf-8"
    )
    return path


def _not_for_the_cli(name: str) -> bool:
    # The developer's own settings, and proxies: the CLI honours HTTP(S)_PROXY, and a proxy cannot reach the
    # test's servers on 127.0.0.1.
    return name.startswith("ALERTD_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ALERTD_* variables and no .env file: only what a test sets reaches the CLI."""
    for name in list(os.environ):
        if _not_for_the_cli(name):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    # A copy of the migrated template: send-test records the test in history, and migrating per test is slow.
    shutil.copyfile(sqlite_template, tmp_path / "alertd.db")
    return f"sqlite:///{tmp_path / 'alertd.db'}"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def send_test_in_process(capsys: pytest.CaptureFixture[str], calendar: Path, db_url: str, channel: str = "ch") -> Run:
    code = main(["send-test", channel, "--calendar", str(calendar), "--db", db_url])
    out, err = capsys.readouterr()
    return Run(code, out, err)


def send_test_subprocess(calendar: Path, db_url: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    clean = {k: v for k, v in os.environ.items() if not _not_for_the_cli(k)}
    clean.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "alertd", "send-test", "ch", "--calendar", str(calendar), "--db", db_url],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def delivered_answer(run: Run) -> str:
    """The answer from ``send-test ch: delivered — ANSWER``, after checking the run succeeded quietly."""
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    lines = [line for line in run.out.splitlines() if line.startswith("send-test ch: delivered — ")]
    assert len(lines) == 1, run.out
    return lines[0].removeprefix("send-test ch: delivered — ")


def one_line_failure(run: Run) -> str:
    """Exit 1 with a single ``alertd: …`` line on stderr and no traceback; return that line."""
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("alertd: send-test ch: failed")
    return lines[0]


# --- one case per HTTP channel type: its options, the service's documented success answer, the request shape ---


@dataclass(frozen=True)
class Case:
    """``options(base_url)`` points the channel at the receiver; ``reply`` is the service's success answer; the
    printed answer must contain ``summary`` (``{host}`` is the receiver's host:port); ``check`` judges the one
    request the service received."""

    type: str
    options: Callable[[str], dict[str, Any]]
    reply: tuple[int, str, dict[str, str]]
    summary: str
    check: Callable[[Recorded], None]


def _json_reply(status: int, body: dict[str, Any]) -> tuple[int, str, dict[str, str]]:
    return status, json.dumps(body), {"Content-Type": "application/json"}


def _is_test_post(request: Recorded, path: str) -> dict[str, Any]:
    """The request is a JSON POST to ``path``; its body."""
    assert (request.method, request.path) == ("POST", path)
    assert request.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = request.json()
    return body


def _check_webhook(request: Recorded) -> None:
    body = _is_test_post(request, "/hook")
    assert body["kind"] == "test"
    # Standard Webhooks: the id header is the notification id, the receiver's idempotency key.
    assert request.headers["webhook-id"] == body["id"]


def _check_slack(request: Recorded) -> None:
    body = _is_test_post(request, "/services/TEST/HOOK/PATH")
    assert body["text"]
    assert body["blocks"]


def _check_discord(request: Recorded) -> None:
    body = _is_test_post(request, "/api/webhooks/123/tok")
    # wait=true is what makes Discord confirm the message was saved.
    assert parse_qs(request.query)["wait"] == ["true"]
    assert len(body["embeds"]) == 1
    assert body["allowed_mentions"] == {"parse": []}


def _check_teams(request: Recorded) -> None:
    body = _is_test_post(request, "/workflows/abc/triggers/manual/paths/invoke")
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"


def _check_telegram(request: Recorded) -> None:
    body = _is_test_post(request, f"/bot{TELEGRAM_TOKEN}/sendMessage")
    assert body["chat_id"] == -100123
    assert body["parse_mode"] == "HTML"
    assert body["text"]


def _check_mattermost(request: Recorded) -> None:
    body = _is_test_post(request, "/hooks/xyz")
    assert body["text"]


def _check_googlechat(request: Recorded) -> None:
    body = _is_test_post(request, "/v1/spaces/AAA/messages")
    query = parse_qs(request.query)
    assert (query["key"], query["token"]) == (["k3y"], ["t0k3n"])
    assert body["text"]
    assert len(body["cardsV2"]) == 1


def _check_ntfy(request: Recorded) -> None:
    # JSON publishing goes to the server root with the topic in the body.
    body = _is_test_post(request, "/")
    assert body["topic"] == NTFY_TOPIC
    assert body["title"]
    assert body["message"]


def _check_pagerduty(request: Recorded) -> None:
    body = _is_test_post(request, "/v2/enqueue")
    assert (body["routing_key"], body["event_action"]) == (PAGERDUTY_KEY, "trigger")
    assert body["payload"]["summary"]
    assert body["payload"]["class"] == "test"


def _check_apprise(request: Recorded) -> None:
    body = _is_test_post(request, "/apprise")
    assert body["title"]
    assert body["type"] == "info"


CASES = [
    Case("webhook", lambda base: {"url": f"{base}/hook"}, (200, "ok", {}), "HTTP 200 from {host}: ok", _check_webhook),
    Case(
        "slack",
        lambda base: {"url": f"{base}/services/TEST/HOOK/PATH"},
        (200, "ok", {}),
        "HTTP 200 ok from {host}",
        _check_slack,
    ),
    Case(
        "discord",
        lambda base: {"url": f"{base}/api/webhooks/123/tok"},
        _json_reply(200, {"id": "1300000000000000001", "type": 0, "channel_id": "1200000000000000001"}),
        "message 1300000000000000001",
        _check_discord,
    ),
    Case(
        "teams",
        lambda base: {"url": f"{base}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s1g"},
        (202, "", {}),
        "HTTP 202 accepted",
        _check_teams,
    ),
    Case(
        "telegram",
        lambda base: {"bot_token": TELEGRAM_TOKEN, "chat_id": -100123, "api_base": base},
        _json_reply(200, {"ok": True, "result": {"message_id": 4711, "chat": {"id": -100123}, "date": 1762700000}}),
        "message 4711 in chat -100123",
        _check_telegram,
    ),
    Case("mattermost", lambda base: {"url": f"{base}/hooks/xyz"}, (200, "ok", {}), "HTTP 200 ok", _check_mattermost),
    Case(
        "googlechat",
        lambda base: {"url": f"{base}/v1/spaces/AAA/messages?key=k3y&token=t0k3n"},
        _json_reply(200, {"name": "spaces/AAA/messages/BBB.BBB", "text": "…"}),
        "spaces/AAA/messages/BBB.BBB",
        _check_googlechat,
    ),
    Case(
        "ntfy",
        lambda base: {"server": base, "topic": NTFY_TOPIC},
        _json_reply(200, {"id": "sPs71M8A2T", "time": 1762700000, "event": "message", "topic": NTFY_TOPIC}),
        "message sPs71M8A2T",
        _check_ntfy,
    ),
    Case(
        "pagerduty",
        lambda base: {"routing_key": PAGERDUTY_KEY, "api_base": base},
        _json_reply(202, {"status": "success", "message": "Event processed", "dedup_key": "x"}),
        "HTTP 202 queued (dedup_key x): PagerDuty accepted the event; 202 does not mean anyone was paged yet",
        _check_pagerduty,
    ),
    Case(
        "apprise",
        lambda base: {"urls": [base.replace("http://", "json://") + "/apprise"]},
        (200, "ok", {}),
        "sent to 1 URL (json://)",
        _check_apprise,
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.type) for c in CASES])
def test_send_test_prints_the_services_answer_after_one_request(
    case: Case,
    clean_env: Path,
    db_url: str,
    threaded_receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if case.type not in REGISTRY:
        pytest.skip(f"the {case.type} channel's optional extra is not installed")
    status, body, headers = case.reply
    threaded_receiver.reply(status, body, headers)
    calendar = _write_calendar(
        clean_env / "calendar.yaml", {"ch": {"type": case.type, **case.options(threaded_receiver.base_url)}}
    )

    answer = delivered_answer(send_test_in_process(capsys, calendar, db_url))

    assert case.summary.format(host=threaded_receiver.base_url.removeprefix("http://")) in answer
    # The line already names the channel; an answer that starts with its type again only repeats it.
    assert not answer.startswith(f"{case.type}:")
    # Secrets in a URL's path or in the options never reach the printed answer (or history).
    assert TELEGRAM_TOKEN not in answer
    assert PAGERDUTY_KEY not in answer
    (request,) = threaded_receiver.requests
    case.check(request)


def test_every_channel_type_has_a_send_test_case() -> None:
    """A new channel type must get a case here (or its own test below) before send-test is trusted with it."""
    covered = {c.type for c in CASES} | {"console", "email"}
    assert set(REGISTRY) <= covered


def test_send_test_to_the_console_prints_the_test_message(
    clean_env: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = _write_calendar(clean_env / "calendar.yaml", {"ch": {"type": "console"}})
    run = send_test_in_process(capsys, calendar, db_url)
    assert delivered_answer(run) == "printed"
    # The console channel's own output, once: "[stamp] test → ch: title".
    assert sum(" test → ch: " in line for line in run.out.splitlines()) == 1


def test_send_test_as_a_slack_bot_posts_one_message(
    clean_env: Path, db_url: str, slack_api: SlackApi, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = _write_calendar(
        clean_env / "calendar.yaml",
        {"ch": {"type": "slack", "token": SLACK_TOKEN, "channel": SLACK_CHANNEL, "api_base": slack_api.url()}},
    )

    answer = delivered_answer(send_test_in_process(capsys, calendar, db_url))

    ((ts, posted),) = slack_api.messages.items()
    assert answer == f"posted to {SLACK_CHANNEL} (ts {ts})"
    assert posted["channel"] == SLACK_CHANNEL
    (request,) = slack_api.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == f"Bearer {SLACK_TOKEN}"


def test_send_test_by_email_over_starttls_in_a_subprocess(clean_env: Path, db_url: str, smtp: Smtp) -> None:
    """The real command, SMTP settings from the environment: one mail over STARTTLS verified by a private CA."""
    calendar = _write_calendar(clean_env / "calendar.yaml", {"ch": {"type": "email", "to": [MAIL_TO]}})

    answer = delivered_answer(send_test_subprocess(calendar, db_url, clean_env, smtp.environ()))

    assert answer.startswith(f"accepted by {smtp.environ()['ALERTD_SMTP_HOST']} for 1 recipient: 250 ")
    ((rcpts, mail),) = smtp.mailbox.mails()
    assert rcpts == [MAIL_TO]
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["Subject"]


# --- failures: the service's reason on one line, exit 1 ---


def test_slack_no_service_prints_the_reason_and_exits_1_in_a_subprocess(
    clean_env: Path, db_url: str, threaded_receiver: Receiver
) -> None:
    threaded_receiver.reply(404, "no_service")
    calendar = _write_calendar(
        clean_env / "calendar.yaml", {"ch": {"type": "slack", "url": threaded_receiver.url("/services/T/B/X")}}
    )

    line = one_line_failure(send_test_subprocess(calendar, db_url, clean_env))

    assert "(permanent)" in line
    assert "no_service" in line
    assert "create a new one" in line
    assert len(threaded_receiver.requests) == 1


@pytest.mark.parametrize(
    ("kind", "options", "reply", "reason"),
    [
        pytest.param(
            "discord",
            {"url": "/api/webhooks/123/tok"},
            _json_reply(401, {"message": "Invalid Webhook Token", "code": 50027}),
            "Invalid Webhook Token",
            id="discord-401",
        ),
        pytest.param(
            "telegram",
            {"bot_token": TELEGRAM_TOKEN, "chat_id": 42, "api_base": ""},
            _json_reply(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
            "bot was blocked by the user",
            id="telegram-403",
        ),
        pytest.param(
            "pagerduty",
            {"routing_key": PAGERDUTY_KEY, "api_base": ""},
            _json_reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["bad"]}),
            "Event object is invalid",
            id="pagerduty-400",
        ),
        pytest.param(
            "teams",
            {"url": "/workflows/abc/invoke?sig=s1g"},
            (404, "", {}),
            "the workflow is deleted, turned off or its URL is wrong",
            id="teams-404",
        ),
    ],
)
def test_a_refusal_prints_the_services_reason_and_exits_1(
    kind: str,
    options: dict[str, Any],
    reply: tuple[int, str, dict[str, str]],
    reason: str,
    clean_env: Path,
    db_url: str,
    threaded_receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    threaded_receiver.reply(*reply)
    # URL-valued options are given as paths (or empty) and put on the receiver here.
    located = {k: threaded_receiver.base_url + v if k in ("url", "api_base") else v for k, v in options.items()}
    calendar = _write_calendar(clean_env / "calendar.yaml", {"ch": {"type": kind, **located}})

    line = one_line_failure(send_test_in_process(capsys, calendar, db_url))

    assert reason in line
    assert f"HTTP {reply[0]}" in line
    assert len(threaded_receiver.requests) == 1


def test_a_secret_in_the_url_is_not_printed_on_failure(
    clean_env: Path, db_url: str, threaded_receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    """Services echo the request URL in error pages; the webhook's token in its path must not reach the terminal."""
    secret = "s3cr3t-hook-t0ken"
    threaded_receiver.reply(
        403, f"<html><body>Forbidden: POST /hooks/{secret}</body></html>", {"Content-Type": "text/html"}
    )
    calendar = _write_calendar(
        clean_env / "calendar.yaml", {"ch": {"type": "webhook", "url": threaded_receiver.url(f"/hooks/{secret}")}}
    )

    run = send_test_in_process(capsys, calendar, db_url)

    one_line_failure(run)
    assert secret not in run.err + run.out


def test_unknown_channel_exits_1_and_suggests_the_closest_id(
    clean_env: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = _write_calendar(
        clean_env / "calendar.yaml", {"desk-slack": {"type": "console"}, "audit": {"type": "console"}}
    )

    run = send_test_in_process(capsys, calendar, db_url, channel="desk-slak")

    assert run.code == 1
    assert "Traceback" not in run.err
    (line,) = run.err.strip().splitlines()
    assert line.startswith("alertd: no channel 'desk-slak'")
    assert "did you mean 'desk-slack'?" in line


def test_unknown_channel_with_nothing_close_lists_the_channels(
    clean_env: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = _write_calendar(
        clean_env / "calendar.yaml", {"desk-slack": {"type": "console"}, "audit": {"type": "console"}}
    )

    run = send_test_in_process(capsys, calendar, db_url, channel="pager")

    assert run.code == 1
    (line,) = run.err.strip().splitlines()
    assert "audit" in line
    assert "desk-slack" in line
