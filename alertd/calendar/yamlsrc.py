"""YAML → plain Python data plus the line of every key, so calendar errors can say ``file:line``.

PyYAML's loaders throw marks away and silently keep the last of two duplicate keys, so we compose the node
tree (SafeLoader rules) and build the data ourselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from alertd.errors import CalendarError, CalendarIssue

__all__ = ["MAX_DEPTH", "MAX_NODES", "KeyPath", "YamlDoc", "dotted", "load_yaml"]

KeyPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
# Anchors let a tiny file expand into billions of nodes; no real calendar comes anywhere near this.
MAX_NODES = 200_000
# A calendar is four levels deep (events → event → reminders → offset), templates a few more; parsing and
# walking recurse once per level, so a deeper document is refused before it can exhaust the stack.
MAX_DEPTH = 32


class _TooDeep(yaml.YAMLError):
    def __init__(self, line: int, what: str) -> None:
        super().__init__(what)
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader rules, refusing documents nested deeper than MAX_DEPTH or with more than MAX_NODES nodes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def _line(self) -> int:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        return int(event.start_mark.line) + 1

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self._line()
                raise _TooDeep(line, f"values are nested more than {MAX_DEPTH} levels deep; flatten the document")
            if self._nodes > MAX_NODES:
                line = self._line()
                raise _TooDeep(line, f"the document has more than {MAX_NODES} values; split or shorten it")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def dotted(path: KeyPath) -> str:
    """``("events", 2, "at")`` → ``events[2].at``."""
    out = ""
    for part in path:
        if isinstance(part, str) and (not part.isprintable() or not part.strip() or part != part.strip()):
            # A key with a newline or only blanks must not break the one-line file:line message.
            out += f"[{part!r}]"
        else:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """Loaded data, the 1-based line of each key path, and recoverable problems (duplicate keys, odd tags)."""

    data: Any
    lines: Mapping[KeyPath, int]
    issues: tuple[CalendarIssue, ...]

    def line(self, path: KeyPath) -> int:
        """Line of ``path``, or of its nearest ancestor that has one (a value built later, a missing key)."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return 1


def load_yaml(text: str, *, file: str) -> YamlDoc:
    """Parse one YAML document; a syntax error raises CalendarError with its line."""
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # its reader refuses control characters at once
        root = loader.get_single_node()
    except _TooDeep as exc:
        raise CalendarError([CalendarIssue(file, exc.line, "", str(exc))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else 1
        message = f"YAML syntax error: {what}; check indentation, colons and quotes around here"
        raise CalendarError([CalendarIssue(file, line, "", message)]) from None
    except yaml.reader.ReaderError as exc:
        # Control characters and the like: its str() spans lines and says "position N", so give the line instead.
        line = text.count("\n", 0, exc.position) + 1
        code = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        message = f"YAML syntax error: character {code} is not allowed ({exc.reason}); remove it"
        raise CalendarError([CalendarIssue(file, line, "", message)]) from None
    except yaml.YAMLError as exc:
        message = " ".join(f"YAML syntax error: {exc}".split())  # one line, whatever PyYAML wrote
        raise CalendarError([CalendarIssue(file, 1, "", message)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    walker = _Walker(file)
    data = None if root is None else walker.walk(root, (), root.start_mark.line + 1)
    return YamlDoc(data, walker.lines, tuple(walker.issues.values()))


class _Walker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        # Keyed by (line, message): an anchored mapping reached through several aliases reports once.
        self.issues: dict[tuple[int, str], CalendarIssue] = {}
        self._budget = MAX_NODES
        self._open: set[int] = set()
        self._scalars = SafeConstructor()

    def _issue(self, line: int, path: KeyPath, message: str) -> None:
        self.issues.setdefault((line, message), CalendarIssue(self.file, line, dotted(path), message))

    def walk(self, node: Node, path: KeyPath, line: int) -> Any:
        self.lines.setdefault(path, line)
        self._budget -= 1
        if self._budget < 0:
            message = f"the document expands to more than {MAX_NODES} values; check anchors and aliases"
            raise CalendarError([CalendarIssue(self.file, line, dotted(path), message)])
        if len(path) > MAX_DEPTH:
            # Aliases inside anchored values can stack nesting that no single part of the text shows.
            message = f"values are nested more than {MAX_DEPTH} levels deep (through aliases); flatten them"
            raise CalendarError([CalendarIssue(self.file, line, dotted(path[:2]), message)])
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            self._issue(line, path, "an alias refers to a value that contains it; remove the loop")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.walk(n, (*path, i), n.start_mark.line + 1) for i, n in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _TAG + "merge":
                merges.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                continue
            if not isinstance(key_node, ScalarNode):
                self._issue(line, path, "a key must be plain text, not a list or mapping")
                continue
            key = key_node.value  # as written: `on:` or `1:` stays a name instead of becoming True or 1
            if key in first_line:
                message = f"duplicate key {key!r} (first on line {first_line[key]}); keep only one"
                self._issue(line, (*path, key), message)
                continue
            first_line[key] = line
            out[key] = self.walk(value_node, (*path, key), line)
        # `<<: *base` fills in only what the mapping does not set itself, earlier merges winning.
        for merged in merges:
            value = self.walk(merged, path, merged.start_mark.line + 1)
            if isinstance(value, dict):
                for key, item in value.items():
                    out.setdefault(key, item)
            else:
                self._issue(merged.start_mark.line + 1, path, "'<<' must merge a mapping")
        return out

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        # Dates stay as written for the calendar's own parser; YAML 1.1 sexagesimal (`9:30` → 570) is a
        # trap for times of day, so anything with a colon that YAML calls a number stays text too.
        if node.tag == _TAG + "timestamp" or (node.tag in (_TAG + "int", _TAG + "float") and ":" in node.value):
            return node.value
        try:
            return self._scalars.construct_object(node)
        except yaml.YAMLError:
            self._issue(node.start_mark.line + 1, path, f"unsupported YAML tag {node.tag!r}; remove it")
            return node.value
