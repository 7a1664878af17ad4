"""The slow tier's list (tests/conftest.py) names only tests and modules that exist, so a renamed
test cannot drop out of the tier silently and run in neither `make test` nor `make test-slow`."""

import ast

from conftest import REPO, SLOW_FUNCTIONS, SLOW_MODULES


def _functions(module: str) -> set[str]:
    tree = ast.parse((REPO / "tests" / module).read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_slow_entry_exists():
    for module in SLOW_MODULES:
        assert (REPO / "tests" / module).exists(), module
    missing = [f for f in SLOW_FUNCTIONS if f.split("::")[1] not in _functions(f.split("::")[0])]
    assert not missing, f"tests/conftest.py lists tests that do not exist: {missing}"
