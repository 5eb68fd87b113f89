"""Login CSRF: a login post is accepted only with the signed token the login form set in its cookie and field."""

from __future__ import annotations

import httpx

from alertd.web.logincsrf import LOGIN_COOKIE, LoginTokens

from .conftest import WRITE_TOKEN, csrf_of, log_in

KEY = b"k" * 32


async def test_a_login_posted_without_the_forms_token_is_refused_and_opens_no_session(
    client: httpx.AsyncClient,
) -> None:
    # What another site's form can send: the attacker's own token, no cookie of ours, no CSRF field.
    answer = await client.post("/login", data={"token": WRITE_TOKEN, "next": "/"})
    assert answer.status_code == 403
    assert "not sent from this site" in answer.text
    assert "alertd_session" not in answer.headers.get("set-cookie", "")


async def test_a_login_whose_field_differs_from_its_cookie_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    other = LoginTokens(lambda: KEY).issue()
    answer = await client.post("/login", data={"token": WRITE_TOKEN, "csrf": other})
    assert answer.status_code == 403


async def test_a_token_signed_with_another_key_is_refused_even_in_both_places(client: httpx.AsyncClient) -> None:
    forged = LoginTokens(lambda: KEY).issue()
    client.cookies.set(LOGIN_COOKIE, forged, path="/login")
    answer = await client.post("/login", data={"token": WRITE_TOKEN, "csrf": forged})
    assert answer.status_code == 403


async def test_the_login_forms_cookie_is_httponly_strict_and_scoped_to_login(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    cookie = form.headers["set-cookie"].lower()
    assert cookie.startswith(LOGIN_COOKIE + "=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/login" in cookie
    assert csrf_of(form.text) == client.cookies.get(LOGIN_COOKIE)


async def test_the_forms_token_logs_in(client: httpx.AsyncClient) -> None:
    csrf = csrf_of((await client.get("/login")).text)
    answer = await client.post("/login", data={"token": WRITE_TOKEN, "csrf": csrf, "next": "/plan"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/plan"


def test_an_expired_token_is_not_valid() -> None:
    tokens = LoginTokens(lambda: KEY, max_age=-1)
    assert not tokens.valid(tokens.issue())
    assert not tokens.matches(None, "x")


def test_an_oversized_or_garbled_token_is_not_valid() -> None:
    tokens = LoginTokens(lambda: KEY)
    assert not tokens.valid("a" * 10_000)
    assert not tokens.valid("not.a.signed-value")
    assert not tokens.matches(tokens.issue(), "")


async def test_logging_out_needs_the_sessions_own_form(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    # What another site's form can send: no CSRF field of this session.
    refused = await client.post("/logout", data={})
    assert refused.status_code == 403
    assert "alertd_session" not in refused.headers.get("set-cookie", "")
    board = await client.get("/")
    assert board.status_code == 200

    answer = await client.post("/logout", data={"csrf": csrf_of(board.text)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert "alertd_session=" in answer.headers["set-cookie"]
