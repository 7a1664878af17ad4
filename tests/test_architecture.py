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
    {"types", "errors", "paths", "config_keys", "defaults", "cli", "moved"},
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


# The modules that may read a config's groups: the build layer, the defaults that define them
# and the key moves that rename them.
CONFIG_READERS = ("aejax/build/", "aejax/defaults.py", "aejax/config_keys.py")


def _config_like(node: ast.AST) -> bool:
    """``config``, ``cfg``, ``c`` or ``<anything>.config`` (a run's config)."""
    return (isinstance(node, ast.Name) and node.id in ("config", "cfg", "c")) or (
        isinstance(node, ast.Attribute) and node.attr == "config"
    )


def _group_reads(tree: ast.AST, groups: set[str]):
    """``(line, text)`` of every ``config.<group>``, ``config["<group>"]`` and
    ``config.get("<group>")`` in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _config_like(node.value) and node.attr in groups:
            yield node.lineno, f".{node.attr}"
        elif (
            isinstance(node, ast.Subscript)
            and _config_like(node.value)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value in groups
        ):
            yield node.lineno, f"[{node.slice.value!r}]"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _config_like(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in groups
        ):
            yield node.lineno, f".get({node.args[0].value!r})"


def test_only_the_build_layer_reads_a_config():
    """Above ``aejax/build`` a run is its built pieces (:class:`aejax.build.Experiment` and its
    facts): no module reads a config group (``config.eval.batch_size``), so a key has one
    reader that checks it and names it in errors."""
    from aejax.defaults import base_config

    groups = set(base_config().keys())
    found = [
        f"{path.relative_to(REPO)}:{line}: config{text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not str(path.relative_to(REPO)).startswith(CONFIG_READERS)
        for line, text in _group_reads(ast.parse(path.read_text()), groups)
    ]
    assert not found, "\n".join(found)


def test_the_config_read_check_finds_reads():
    """The check above is not blind: it finds each form of read in a sample."""
    sample = "x = config.eval.batch_size\ny = run.config['data']\nz = cfg.get('model')\n"
    found = sorted(_group_reads(ast.parse(sample), {"eval", "data", "model"}))
    assert found == [(1, ".eval"), (2, "['data']"), (3, ".get('model')")]


def test_moved_python_names_say_where_they_went():
    """``from aejax.build import labelled_pool`` (a name of the old ``build.py``) fails with one
    line naming its replacement, and that replacement exists."""
    import importlib

    from aejax.moved import MOVED, MovedNameError

    for module, table in MOVED.items():
        for name, replacement in table.items():
            try:
                exec(f"from {module} import {name}", {})
            except MovedNameError as e:
                assert str(e).startswith(f"{module}.{name} moved: use ") and "\n" not in str(e)
            else:
                raise AssertionError(f"{module}.{name} still imports")
            path = replacement.split("(")[0].split("[")[0].strip()
            owner, _, attr = path.rpartition(".")
            assert hasattr(importlib.import_module(owner), attr), f"{replacement} does not exist"
    assert not hasattr(importlib.import_module("aejax.build"), "no_such_name")
