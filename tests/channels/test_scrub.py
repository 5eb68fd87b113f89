"""The credential scrubber every built channel is wrapped in (alertd.channels.scrub)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from support.factories import make_channel, make_message

from alertd.channels import PartialAnswer
from alertd.channels.scrub import ScrubbedChannel, channel_secrets, scrub
from alertd.domain import ChannelSpec, Message
from alertd.errors import DeliveryError

URL = "https://hooks.example.com/services/T0/B0/a1b2c3d4e5?token=q9w8e7r6t5"


class Fake:
    """A channel that answers or fails with whatever text it is given."""

    def __init__(self, spec: ChannelSpec, *, answer: str = "", error: Exception | None = None) -> None:
        self.spec = spec
        self.answer, self.error = answer, error

    async def send(self, message: Message) -> str:
        if self.error is not None:
            raise self.error
        return self.answer


def _spec() -> ChannelSpec:
    return make_channel("webhook", options={"url": URL, "headers": {"X-Api-Key": "Key 55aa66bb"}, "username": "desk"})


def test_url_secrets_include_the_path_and_its_tokens_but_not_the_host() -> None:
    """The whole URL, its path and token-like segments are secret; the host stays readable."""
    secrets = channel_secrets(_spec())
    assert {URL, "a1b2c3d4e5", "q9w8e7r6t5"} <= set(secrets)
    assert not {"hooks.example.com", "services"} & set(secrets)


def test_header_values_and_their_words_are_secrets() -> None:
    """Any header value, and the credential after a scheme word like ``Bearer``."""
    assert {"Key 55aa66bb", "55aa66bb"} <= set(channel_secrets(_spec()))


def test_options_that_are_not_credentials_are_left_alone() -> None:
    """A display name is not hidden from messages."""
    assert "desk" not in channel_secrets(_spec())


def test_process_secrets_are_included() -> None:
    """SMTP password and API tokens from the settings, SecretStr or not."""
    settings = SimpleNamespace(smtp_password=SecretStr("smtp-pw-123"), api_token="api-tok-456", api_read_token=None)
    assert {"smtp-pw-123", "api-tok-456"} <= set(channel_secrets(make_channel("console"), settings))


def test_scrub_replaces_longest_secrets_first() -> None:
    """The whole URL goes as one mask, not as a host followed by masked fragments."""
    assert scrub(f"POST {URL} failed", channel_secrets(_spec())) == "POST … failed"


async def test_a_delivery_error_is_scrubbed_and_keeps_its_attributes() -> None:
    """Permanent flag, retry hint and status survive; the echoed token does not."""
    error = DeliveryError(f"HTTP 429: {URL}", permanent=False, retry_after=3.0, status=429)
    channel = ScrubbedChannel(Fake(_spec(), error=error), channel_secrets(_spec()))
    with pytest.raises(DeliveryError) as info:
        await channel.send(make_message())
    assert info.value is error
    assert (str(info.value), info.value.retry_after, info.value.status) == ("HTTP 429: …", 3.0, 429)


async def test_a_crashing_channel_becomes_a_scrubbed_delivery_error() -> None:
    """A bug's exception text may quote the URL; it reaches history as an internal error without it."""
    channel = ScrubbedChannel(Fake(_spec(), error=KeyError(URL)), channel_secrets(_spec()))
    with pytest.raises(DeliveryError) as info:
        await channel.send(make_message())
    assert "a1b2c3d4e5" not in str(info.value)
    assert str(info.value).startswith("internal error: KeyError")


async def test_a_partial_answer_stays_partial_and_is_scrubbed() -> None:
    """An answer naming refused recipients keeps saying so through the scrubber, both texts without secrets."""
    answer = PartialAnswer("sent to 1 of 2, ref q9w8e7r6t5", refused="x@example.org (550 q9w8e7r6t5)")
    channel = ScrubbedChannel(Fake(_spec(), answer=answer), channel_secrets(_spec()))
    scrubbed = await channel.send(make_message())
    assert isinstance(scrubbed, PartialAnswer)
    assert (scrubbed, scrubbed.refused) == ("sent to 1 of 2, ref …", "x@example.org (550 …)")


async def test_the_answer_is_scrubbed() -> None:
    """A summary quoting the service's answer loses the credentials in it."""
    channel = ScrubbedChannel(Fake(_spec(), answer="HTTP 200, ref q9w8e7r6t5"), channel_secrets(_spec()))
    assert await channel.send(make_message()) == "HTTP 200, ref …"


# Shaped like a Slack bot token, assembled so that no secret scanner takes the file for one.
TOKEN = "xoxb" + "-0000000000-fake-test-token-nothing"


def test_the_start_of_a_secret_left_by_a_cut_is_masked() -> None:
    """A token quoted across the 200-character cut keeps none of its characters, whatever the cut left."""
    for kept in range(4, len(TOKEN)):
        text = "error: " + "y" * 30 + TOKEN[:kept] + "…"
        assert scrub(text, [TOKEN]) == "error: " + "y" * 30 + "…"


def test_the_start_of_a_secret_at_the_very_end_is_masked() -> None:
    """The same at the end of a text with no cut marker; a few shared letters elsewhere are left alone."""
    assert scrub(f"said {TOKEN[:10]}", [TOKEN]) == "said …"
    assert scrub("xoxb- is a prefix word, no secret here", [TOKEN]) == "xoxb- is a prefix word, no secret here"


async def test_an_answer_echoing_a_secret_across_the_excerpt_cut_leaks_none_of_it() -> None:
    """An error excerpt cut at 200 characters in the middle of a token goes out with no part of the token."""
    from alertd.channels import http

    spec = make_channel("webhook", options={"url": f"https://hooks.example.com/x?token={TOKEN}"})
    body = "z" * 180 + TOKEN
    cut = http.one_line(body)
    assert TOKEN[:10] in cut  # the cut alone would leave part of the token
    error = DeliveryError(f"HTTP 500 from hooks.example.com: {cut}")
    channel = ScrubbedChannel(Fake(spec, error=error), channel_secrets(spec))
    with pytest.raises(DeliveryError) as info:
        await channel.send(make_message())
    assert TOKEN[:4] not in str(info.value)
    assert str(info.value).endswith("z…")


async def test_control_characters_from_a_receiver_never_reach_the_output() -> None:
    """ESC, BEL, BS and NUL in a service's text are replaced; the answer is one line."""
    channel = ScrubbedChannel(Fake(_spec(), answer="ok \x1b[2J\x07\x08\x00 done\nnext"), channel_secrets(_spec()))
    answer = await channel.send(make_message())
    assert answer == "ok \ufffd[2J\ufffd\ufffd\ufffd done next"


def test_the_smtp_password_is_secret_in_its_base64_login_forms() -> None:
    """AUTH LOGIN's base64 password and AUTH PLAIN's base64 user-and-password are masked like the password."""
    import base64

    settings = SimpleNamespace(smtp_password=SecretStr("smtp-pw-123"), smtp_username="desk", api_token=None)
    secrets = set(channel_secrets(make_channel("email", options={"to": ["a@example.com"]}), settings))
    assert base64.b64encode(b"smtp-pw-123").decode() in secrets
    assert base64.b64encode(b"\0desk\0smtp-pw-123").decode() in secrets
