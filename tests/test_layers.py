"""The package's layers: every import inside alertd points down (or sideways within a layer), and none forms a circle.

Layers, lowest first, as ``alertd/__init__.py`` describes them. A module may import its own layer and those below.
Every import counts, including those inside functions and under ``TYPE_CHECKING``: a lazy import still ties the
lower layer to the higher one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import alertd

ROOT = Path(alertd.__file__).parent
# Lowest first; a module's layer is the first entry its dotted name starts with.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "alertd",
        "alertd.errors",
        "alertd.files",
        "alertd.clock",
        "alertd.timeexpr",
        "alertd.workdays",
        "alertd.domain",
        "alertd.environ",
        "alertd.settings",
        "alertd.logs",
    ),
    ("alertd.messages",),
    ("alertd.channels",),
    ("alertd.calendar",),
    ("alertd.planning",),
    ("alertd.storage",),
    ("alertd.delivery",),
    ("alertd.feeds",),
    ("alertd.api",),
    ("alertd.web",),
    ("alertd.daemon",),
    ("alertd.cli",),
    ("alertd.__main__",),
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def layer(module: str) -> int:
    best, rank = -1, -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, rank = len(name), index
    assert rank >= 0, f"{module} is in no layer: add it to LAYERS and to alertd/__init__.py"
    return rank


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "alertd":
                    yield _known(alias.name), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "alertd":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in MODULES else _known(target)), node.lineno


def _known(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


GRAPH = {m: sorted(set(_imports(m, p))) for m, p in MODULES.items()}


def test_every_import_points_down_or_sideways() -> None:
    """A module imports only from its own layer or lower ones."""
    upward = [
        f"{MODULES[m].relative_to(ROOT.parent)}:{line}: {m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
        for m, targets in GRAPH.items()
        for t, line in targets
        if layer(t) > layer(m)
    ]
    assert upward == []


def test_no_import_circles() -> None:
    """No module reaches itself through imports (Tarjan's strongly connected components)."""
    edges = {m: {t for t, _ in targets if t != m} for m, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    assert circles == []


def test_the_layers_name_every_subpackage() -> None:
    """Each subpackage of alertd has its place in the layers, so a new room cannot sneak in unranked."""
    named = {name for names in LAYERS for name in names}
    packages = {f"alertd.{p.name}" for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages <= named


SUBPACKAGES = ("calendar", "planning", "storage", "delivery", "messages", "channels")


def test_other_layers_import_a_subpackage_only_through_its_public_names() -> None:
    """Outside ``alertd.storage`` (say), code imports ``from alertd.storage import …``, never its modules."""
    reaching_in: list[str] = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            parts = node.module.split(".")
            if len(parts) > 2 and parts[0] == "alertd" and parts[1] in SUBPACKAGES:
                home = f"alertd.{parts[1]}"
                if module != home and not module.startswith(home + "."):
                    reaching_in.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: from {node.module}")
    assert reaching_in == []


def test_no_module_imports_another_modules_private_names() -> None:
    """A leading underscore means "this module only": nothing imports such a name from elsewhere."""
    private = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno}: {alias.name} from {node.module}"
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("alertd")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert private == []


def _type_checking_names(path: Path) -> dict[str, str]:
    """Name → module of the imports under ``if TYPE_CHECKING:`` in a package's ``__init__``."""
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    found.update({alias.name: stmt.module for alias in stmt.names})
    return found


def test_each_subpackage_serves_exactly_the_names_it_lists() -> None:
    """``__all__``, the typed imports and the lazily served names agree, and each name comes from its module."""
    import importlib

    for name in SUBPACKAGES:
        package = importlib.import_module(f"alertd.{name}")
        typed = _type_checking_names(ROOT / name / "__init__.py")
        eager = {n for n in package.__all__ if n in vars(package)} - set(typed)
        assert set(typed) | eager == set(package.__all__), name
        # A submodule of the same name would replace the attribute once imported.
        assert not set(package.__all__) & {p.stem for p in (ROOT / name).glob("*.py")}, name
        for public, module in typed.items():
            value = getattr(package, public)
            assert value is getattr(importlib.import_module(module), public), f"alertd.{name}.{public}"
