"""The sweep grid lives in :mod:`aejax.build.grid` (it reads and writes configs, which only the
build layer does); these names stay importable from here."""

from aejax.build.grid import Member, expand, parse_sweep, set_key, shape_groups

__all__ = ["Member", "expand", "parse_sweep", "set_key", "shape_groups"]
