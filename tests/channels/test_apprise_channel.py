"""The Apprise channel: real Apprise ``json://`` sends to the test receiver, off the event loop."""

from __future__ import annotations

import io
import socket
import textwrap
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_message
from support.receiver import Receiver

apprise = pytest.importorskip("apprise")

from alertd.calendar.load import load_calendar  # noqa: E402 - after the skip: the extra may be missing
from alertd.channels import REGISTRY  # noqa: E402
from alertd.channels.apprise_channel import TYPE, AppriseOptions, redactor, scheme  # noqa: E402
from alertd.channels.base import ChannelContext  # noqa: E402
from alertd.errors import DeliveryError  # noqa: E402


def _json_url(receiver: Receiver, path: str = "/apprise/s3cr3t-path") -> str:
    return receiver.base_url.replace("http://", "json://") + path


def _channel(client: httpx.AsyncClient, *urls: str) -> Any:
    spec = make_channel("apprise", options={"urls": list(urls)})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_registered() -> None:
    """With the extra installed, the registry maps ``apprise`` to this module."""
    assert REGISTRY["apprise"] is TYPE


async def test_sends_title_and_body_over_socket(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Apprise's JSON plugin really posts the message's title and text to the receiver."""
    message = make_message(kind="change", title="Changed: US–China truce", text="Moved to Mon 10 Nov.", offset=None)
    summary = await _channel(http_client, _json_url(receiver)).send(message)
    assert summary == "sent to 1 URL (json://)"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/apprise/s3cr3t-path")
    assert request.json() == {
        "version": "1.0",
        "title": "Changed: US–China truce",
        "message": "Moved to Mon 10 Nov.",
        "attachments": [],
        "type": "warning",
    }


async def test_send_runs_off_the_event_loop(
    receiver: Receiver, http_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocking Apprise call runs on a worker thread, not on the event loop's."""
    seen: list[int] = []
    original = apprise.Apprise.notify

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(apprise.Apprise, "notify", spy)
    await _channel(http_client, _json_url(receiver)).send(make_message())
    assert len(seen) == 1
    assert seen[0] != threading.get_ident()
    assert len(receiver.requests) == 1


async def test_every_url_gets_the_message(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Several URLs are all notified; the summary counts them."""
    summary = await _channel(http_client, _json_url(receiver, "/a"), _json_url(receiver, "/b")).send(make_message())
    assert summary == "sent to 2 URLs (json://)"
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b"]


async def test_error_status_is_transient_with_reason(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """A target answering 500 makes Apprise say False: a transient error carrying Apprise's logged reason."""
    receiver.reply(500, "boom")
    with pytest.raises(DeliveryError) as info:
        await _channel(http_client, _json_url(receiver)).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after) == (False, None)
    assert str(error).startswith("apprise: sending to json:// failed: ")
    assert "500" in str(error)
    assert "s3cr3t" not in str(error)


async def test_unreachable_target_is_transient_and_redacted(http_client: httpx.AsyncClient) -> None:
    """A refused connection is a transient failure; no part of the URL (host, path, password) is shown."""
    url = f"json://user:pa55word@127.0.0.1:{_closed_port()}/s3cr3t-path"
    with pytest.raises(DeliveryError) as info:
        await _channel(http_client, url).send(make_message())
    text = str(info.value)
    assert info.value.permanent is False
    assert text.startswith("apprise: sending to json:// failed: ")
    for secret in ("pa55word", "s3cr3t", "127.0.0.1"):
        assert secret not in text


def test_redactor_covers_every_part() -> None:
    """Host (a bot token for some services), user, password, path parts and query values are all hidden."""
    secrets = redactor(["tgram://123456:AAbbCC-token/-1001234?format=html&key=qu3ry"])
    for part in ("123456:AAbbCC-token", "AAbbCC-token", "-1001234", "qu3ry"):
        assert part in secrets
    assert scheme("TGRAM://x") == "tgram://"


def test_options_reject_unknown_keys_and_bad_urls() -> None:
    """Unknown keys and URLs Apprise cannot use are refused, naming only the scheme and position."""
    with pytest.raises(ValidationError, match="extra"):
        AppriseOptions.model_validate({"urls": ["json://localhost/"], "url": "x"})
    with pytest.raises(ValidationError, match=r"Apprise URL 2 \(nope://\) is not supported") as info:
        AppriseOptions.model_validate({"urls": ["json://localhost/", "nope://s3cr3t@host/"]})
    assert "s3cr3t" not in str(info.value)
    with pytest.raises(ValidationError):
        AppriseOptions.model_validate({"urls": []})
    assert "s3cr3t" not in repr(AppriseOptions(urls=["json://localhost/s3cr3t"]))


def test_calendar_with_apprise_channel_loads(tmp_path: Path) -> None:
    """A calendar declaring an apprise channel loads through the calendar loader."""
    path = tmp_path / "calendar.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            channels:
              anywhere: {type: apprise, urls: ["json://localhost:8080/hook", "${EXTRA_URL}"]}
            defaults: {notify: [anywhere]}
            """
        ),
        encoding="utf-8",
    )
    calendar, warnings = load_calendar(path, environ={"EXTRA_URL": "jsons://hooks.example.com/x"})
    assert warnings == []
    channel = calendar.channels["anywhere"]
    assert (channel.type, channel.options["urls"]) == (
        "apprise",
        ["json://localhost:8080/hook", "jsons://hooks.example.com/x"],
    )
