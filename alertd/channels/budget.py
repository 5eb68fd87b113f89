"""Making a message fit a service's limits: one way to cut a text with an ellipsis, one way to fit rows.

Services count differently (Slack and Discord characters, Telegram UTF-16 code units after entity parsing,
ntfy and Google Chat UTF-8 bytes, Teams and PagerDuty the serialized request), so both helpers take the
measure as a parameter. A message is cut to fit, never rejected: a cut text ends with ``…`` and a list that
lost rows says how many (the caller's "…and N more").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["ELLIPSIS", "chars", "cut", "fit_items", "fit_list", "fit_rows", "utf8", "utf16"]

ELLIPSIS = "…"

Measure = Callable[[str], int]


def chars(text: str) -> int:
    """Length in code points (Python's ``len``; Slack, Discord, Mattermost)."""
    return len(text)


def utf8(text: str) -> int:
    """Length in UTF-8 bytes (ntfy, Google Chat, JSON bodies)."""
    return len(text.encode("utf-8", "surrogatepass"))


def utf16(text: str) -> int:
    """Length in UTF-16 code units (Telegram's entity offsets; an astral character counts two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _same(text: str) -> str:
    return text


def cut(text: str, limit: int, *, measure: Measure = chars, escape: Callable[[str], str] = _same) -> str:
    """``escape(text)`` measuring at most ``limit``, cut with ``…`` when it is longer.

    The cut falls between characters of ``text``, so it never splits an escape (``&amp;``, ``\\*``) or a
    character's bytes. ``escape`` must map each character on its own (as HTML and Markdown escaping do), and
    ``measure`` must count every character at least once (all of :func:`chars`, :func:`utf8`, :func:`utf16` do).
    A limit too small even for the ellipsis gives ``""``.
    """
    # Every measure counts each character of ``text`` at least once, so a longer text is never measured whole.
    if len(text) <= limit:
        if escape is _same and measure is chars:
            # Plain text counted in characters (every payload field): it fits as it is.
            return text
        whole = escape(text)
        if measure(whole) <= limit:
            return whole
    room = limit - measure(ELLIPSIS)
    if room < 0:
        return ""
    # The common cases need no walk: plain text counted in characters or in UTF-8 bytes.
    if escape is _same and measure is chars:
        return text[:room] + ELLIPSIS
    if escape is _same and measure is utf8:
        return text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore") + ELLIPSIS
    out: list[str] = []
    size = 0
    for char in text:
        piece = escape(char)
        cost = measure(piece)
        if size + cost > room:
            break
        out.append(piece)
        size += cost
    return "".join(out) + ELLIPSIS


def fit_rows(count: int, fits: Callable[[int], bool]) -> int:
    """The largest ``k`` in ``0..count`` for which ``fits(k)`` (the message with its first ``k`` rows) holds.

    ``fits`` measures the whole rendered message, so nothing is estimated; a binary search keeps a 700-row
    digest to about ten renderings. Fewer rows must (nearly) never measure more; the last steps walk down so a
    count whose "…and N more" grew by a digit still fits. ``0`` when nothing fits; the caller's other cuts
    must make the message with no rows fit.
    """
    if count <= 0 or fits(count):
        return max(count, 0)
    low, high = 0, count - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    while low > 0 and not fits(low):
        low -= 1
    return low


def fit_list(rows: Sequence[str], fits: Callable[[str], bool], more: Callable[[int], str], *, sep: str = "\n") -> str:
    """As many of ``rows`` as fit, joined by ``sep``, then ``more(left)`` ("…and N more") if any were left out.

    ``fits`` judges the joined text (or the whole message built around it); ``""`` when not even
    ``more(len(rows))`` fits.
    """

    def shown(keep: int) -> str:
        tail = [more(len(rows) - keep)] if keep < len(rows) else []
        return sep.join([*rows[:keep], *tail])

    text = shown(fit_rows(len(rows), lambda keep: fits(shown(keep))))
    return text if fits(text) else ""


def fit_items(sizes: Sequence[int], room: int) -> int:
    """How many of the first items fit in ``room`` when each costs its own size.

    For lists whose items are measured once each (a JSON array of events): the sum is exact, so no
    rendering is repeated.
    """
    used = 0
    for count, size in enumerate(sizes):
        used += size
        if used > room:
            return count
    return len(sizes)
