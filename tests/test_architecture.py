"""The layering of the library, checked on its source: each package imports only the layers
below it (or beside it, without a cycle), the trainer names no method and no role, and no
module outgrows the size where it should be split by idea."""

from __future__ import annotations

import ast
import pathlib
import re

from conftest import REPO

from aejax import objectives

PACKAGE = REPO / "aejax"
# Bottom to top. A module may import its own layer (no cycle between packages) and the layers
# below; never one above. Top-level modules count as packages of their own name.
LAYERS = [
    {"types", "errors", "paths", "config_keys", "defaults", "cli"},
    {"nn", "distributions", "data"},
    {"objectives", "models"},
    {"build"},
    {"train"},
    {"evaluation", "graph", "sweep", "benchmarking", "kinds"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}
MAX_LINES = 400
# Modules still over MAX_LINES and who splits them.
OVER_MAX_LINES: dict[str, str] = {}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path, modules: set[str]) -> set[str]:
    """Every ``aejax`` module ``path`` imports, at top level or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "aejax"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if base.split(".")[0] != "aejax":
                continue
            for alias in node.names:  # "from aejax import build" imports the module aejax.build
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def test_every_package_has_a_layer():
    packages = {_package(m) for m in _graph()} - {"aejax"}
    assert packages <= set(LAYER), f"add {sorted(packages - set(LAYER))} to LAYERS"


def test_no_package_imports_a_layer_above_it():
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _package(module) in LAYER
        and _package(target) in LAYER
        and LAYER[_package(target)] > LAYER[_package(module)]
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        for target in targets:
            if _package(target) != _package(module) and "aejax" not in (module, target):
                edges.setdefault(_package(module), set()).add(_package(target))

    def path_back(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen:
                found = path_back(start, nxt, (*seen, nxt))
                if found:
                    return found
        return None

    cycles = [path_back(p, p, (p,)) for p in sorted(edges)]
    assert not any(cycles), " -> ".join(next(c for c in cycles if c))


def test_the_trainer_names_no_method_and_no_role():
    """``aejax/train`` handles any objective through what it declares (players, streams): it
    never names an objective, an extra term, a network or stream an objective asks for, an
    hparam of one, or the dataset fields a method reads."""
    words = set(objectives.OBJECTIVES) | set(objectives.EXTRA_TERMS)
    for spec in objectives.OBJECTIVES.values():
        words |= set(spec.hparams) | set(spec.networks) | {s.name for s in spec.streams}
        words |= {p.name for p in spec.players} | {p.lr_key for p in spec.players}
        words |= {o.key for o in spec.options.values()}
    for term in objectives.EXTRA_TERMS.values():
        words |= set(term.weights) | set(term.hparams)
    words |= {"label", "labels", "labelled", "classifier", "critic", "vae", "semi_supervised"}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words))) + r")\b", re.IGNORECASE)
    found = [
        f"{path.relative_to(REPO)}:{i}: {match.group(0)!r} in {line.strip()!r}"
        for path in sorted((PACKAGE / "train").glob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        for match in pattern.finditer(line)
    ]
    assert not found, "\n".join(found)


def test_no_library_module_is_over_the_size_limit():
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")
    }
    over = {p: n for p, n in sizes.items() if n > MAX_LINES and p not in OVER_MAX_LINES}
    assert not over, f"split by idea: {over}"
