"""The ``channels:`` section of the calendar: common keys, ``*_file`` secrets and each type's own options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertd.calendar.options import check_locale, check_quiet_hours, check_rate_limit, check_templates
from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath
from alertd.channels import CATALOG, channel_type, installed, usable
from alertd.domain import ChannelSpec
from alertd.errors import FileReadError
from alertd.files import SECRET_MAX_BYTES, read_text

if TYPE_CHECKING:
    from pydantic import ValidationError

    from alertd.channels import Options

__all__ = ["check_channels"]

# Keys every channel takes, whatever its type; the rest are the type's own options.
_COMMON = ("type", "timezone", "locale", "quiet_hours", "rate_limit", "templates")
_CHANNEL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def check_channels(ck: Checker, raw: Any, tz: str, base_dir: Path) -> tuple[dict[str, ChannelSpec], tuple[str, ...]]:
    """Valid channels and every declared id: a broken channel must not also break each notify naming it."""
    m = ck.mapping(raw, ("channels",), "{desk-slack: {type: slack, url: ...}}")
    if not m:
        return {"console": ChannelSpec(id="console", type="console", timezone=tz)}, ("console",)
    channels: dict[str, ChannelSpec] = {}
    for cid, spec in m.items():
        if not _CHANNEL_ID.match(cid):
            ck.error(("channels", cid), f"bad channel id {cid!r}: use a-z, 0-9, '-' and '_', e.g. desk-slack")
        channel = _channel(ck, cid, spec, tz, base_dir)
        if channel is not None:
            channels[cid] = channel
    return channels, tuple(m)


def _channel(ck: Checker, cid: str, raw: Any, tz: str, base_dir: Path) -> ChannelSpec | None:
    path: KeyPath = ("channels", cid)
    m = ck.mapping(raw, path, "{type: console}")
    if m is None:
        return None
    kind = ck.text(m["type"], (*path, "type")) if "type" in m else None
    if "type" not in m:
        ck.error(path, f"missing required key 'type' (one of: {', '.join(usable())})")
    elif kind is not None and kind in CATALOG and not installed(kind):
        ck.error((*path, "type"), f"channel type {kind!r} needs an optional extra: pip install 'alertd[{kind}]'")
        kind = None
    elif kind is not None and kind not in CATALOG:
        ck.error((*path, "type"), f"unknown channel type {kind!r} {suggest(kind, usable())}")
        kind = None
    channel_tz = ck.zone_name(m["timezone"], (*path, "timezone")) if "timezone" in m else tz
    locale = check_locale(ck, m["locale"], (*path, "locale")) if "locale" in m else "en"
    errors = ck.error_count
    quiet = check_quiet_hours(ck, m["quiet_hours"], (*path, "quiet_hours")) if "quiet_hours" in m else None
    rate = check_rate_limit(ck, m["rate_limit"], (*path, "rate_limit")) if "rate_limit" in m else None
    templates: dict[str, dict[str, str]] | None = {}
    if "templates" in m and channel_tz is not None and locale is not None:
        # Templates are trial-rendered in the channel's own zone and locale, as they will be sent.
        sample = ChannelSpec(id=cid, type=kind or "console", timezone=channel_tz, locale=locale)
        templates = check_templates(ck, m["templates"], (*path, "templates"), sample)
    common_ok = ck.error_count == errors
    options, origin = _file_secrets(ck, path, {k: v for k, v in m.items() if k not in _COMMON}, base_dir)
    loaded = None if kind is None else channel_type(kind)
    if kind is None or loaded is None or options is None:
        return None
    # Only now is the type's module imported: a calendar pays for the channel types it uses.
    validated = _options(ck, path, kind, loaded.options, options, origin)
    if validated is None:
        return None
    if channel_tz is None or locale is None or templates is None or not common_ok:
        return None
    return ChannelSpec(
        id=cid,
        type=kind,
        timezone=channel_tz,
        locale=locale,
        options=validated,
        quiet_hours=quiet,
        rate_limit=rate,
        templates=templates,
    )


def _options(
    ck: Checker, path: KeyPath, kind: str, model: type[Options] | None, options: dict[str, Any], origin: dict[str, str]
) -> dict[str, Any] | None:
    """The type's own options validated by its model, or None after recording every problem."""
    if model is None:
        # A type without options of its own (console): every key is unknown, and no pydantic model is involved.
        for key in options:
            where = (*path, origin.get(key, key))
            ck.error(where, f"unknown key {key!r} for a {kind} channel {suggest(key, _COMMON)}", of_key=True)
        return None if options else {}
    from pydantic import ValidationError

    try:
        validated: dict[str, Any] = model.model_validate(options).model_dump()
    except ValidationError as exc:
        missing = {key for key in options if any((*path, key)[: len(u)] == u for u in ck.unresolved)}
        if not ck.secrets and all(err["loc"] and str(err["loc"][0]) in missing for err in exc.errors()):
            # Only the secrets this command does not need are wrong: keep the channel for its other settings.
            validated = {k: v for k, v in options.items() if k not in missing}
        else:
            _option_errors(ck, exc, path, kind, model, origin)
            return None
    return validated


def _option_errors(
    ck: Checker, exc: ValidationError, path: KeyPath, kind: str, model: type[Options], origin: dict[str, str]
) -> None:
    known = [*_COMMON, *model.model_fields, *(f"{f}_file" for f in model.model_fields)]
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = origin.get(str(loc[0]), str(loc[0])) if loc else ""
        where = (*path, key, *loc[1:]) if loc else path
        if err["type"] == "extra_forbidden":
            ck.error(where, f"unknown key {key!r} for a {kind} channel {suggest(key, known)}", of_key=True)
        elif err["type"] == "missing":
            ck.error(where, f"missing required key {key!r} for a {kind} channel")
        else:
            # Validators' own messages already carry the fix; pydantic prefixes them with its error class.
            ck.error(where, err["msg"].removeprefix("Value error, "))


def _file_secrets(
    ck: Checker, path: KeyPath, options: dict[str, Any], base_dir: Path
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Replace ``X_file: path`` with ``X: <file content>``; also return X → ``X_file`` for error lines."""
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    ok = True
    for key, value in options.items():
        if not key.endswith("_file") or len(key) == len("_file"):
            out.setdefault(key, value)
            continue
        target, where = key.removesuffix("_file"), (*path, key)
        if target in options:
            ck.error(where, f"give either {target!r} or {key!r}, not both")
            ok = False
        elif not isinstance(value, str) or not value.strip():
            ck.error(where, "must be the path of a file holding the secret")
            ok = False
        else:
            file = base_dir / Path(value).expanduser()
            try:
                out[target] = read_text(file, max_bytes=SECRET_MAX_BYTES, within=ck.secrets_dir).rstrip("\r\n")
                origin[target] = key
                ck.hide(out[target], f"<content of {key}>")
            except FileReadError as exc:
                if not ck.secrets:
                    out[target] = ""
                    ck.unresolved.add((*path, target))
                    continue
                ck.error(where, f"cannot read secret file {str(file)!r}: {exc}; check the path and permissions")
                ok = False
    return (out if ok else None), origin
