"""The raw tables of a report (collapsed at its end): nested dicts of ``eval.json``,
``summary.json`` and the config as key/value tables, dict-of-dicts of scalars as matrices, runs
side by side. Per-dimension lists are drawn as bars (``report_plots.kl_per_dim``), so their cells
only name them.
"""

from __future__ import annotations

from collections.abc import Sequence

from aejax.evaluation.report_doc import Doc, flatten, fmt

# list-valued metrics drawn as bars instead of listed in cells
PLOTTED_LISTS = ("kl_per_dim", "posterior_mean_var")


def raw_cell(key: str, value):
    """Cell of a raw table: per-dimension lists (drawn as bars) are named, not listed."""
    leaf = key.rsplit(".", 1)[-1]
    if isinstance(value, list) and any(leaf in (n, f"test_{n}") for n in PLOTTED_LISTS):
        return f"{len(value)} values, plotted under 'Latent dimensions'"
    return value


def dim_lists(ev: dict) -> dict[str, list]:
    """Per-dimension lists for the bars: the likelihood part's, else the collapse part's."""
    collapse = ev.get("collapse") if isinstance(ev.get("collapse"), dict) else {}
    out = {}
    for name in PLOTTED_LISTS:
        value = ev.get(f"test_{name}") or collapse.get(name)
        if isinstance(value, list) and value:
            out[name] = value
    return out


def top_level(ev: dict) -> list[list]:
    return [[k, raw_cell(k, v)] for k, v in ev.items() if not isinstance(v, dict)]


def _is_matrix(v) -> bool:
    return (
        isinstance(v, dict)
        and bool(v)
        and all(isinstance(row, dict) and row for row in v.values())
        and all(not isinstance(c, (dict, list)) for row in v.values() for c in row.values())
    )


def _matrix(doc: Doc, title: str, matrix: dict):
    cols = list(dict.fromkeys(c for row in matrix.values() for c in row))
    doc.para(title)
    doc.table([""] + cols, [[r] + [row.get(c) for c in cols] for r, row in matrix.items()])


def section_tables(doc: Doc, section: dict):
    """Dict-of-dicts of scalars as matrices (e.g. clustering scores), the rest as key/value."""
    scalars = []
    for key, value in section.items():
        if _is_matrix(value):
            _matrix(doc, key, value)
        elif isinstance(value, dict) and value and all(_is_matrix(v) for v in value.values()):
            for sub, matrix in value.items():
                _matrix(doc, f"{key}: {sub}", matrix)
        elif isinstance(value, dict) and "values" in value:  # a robustness curve
            doc.para(
                f"{key} (clean: recon MSE {fmt(value.get('clean_recon_mse'))}, "
                f"probe accuracy {fmt(value.get('clean_probe_accuracy'))})"
            )
            doc.table(
                ["value", "recon MSE", "probe accuracy"],
                list(
                    zip(value["values"], value["recon_mse"], value["probe_accuracy"], strict=True)
                ),
            )
        elif isinstance(value, dict):
            scalars += [(f"{key}.{k}", raw_cell(k, v)) for k, v in flatten(value).items()]
        else:
            scalars.append((key, raw_cell(key, value)))
    doc.table(["quantity", "value"], scalars)


def side_by_side(trees: Sequence[dict]) -> list[list]:
    flats = [flatten(t) for t in trees]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    return [[k, *(f.get(k) for f in flats)] for k in keys]
