"""Reports of one run or several: Markdown and a self-contained HTML page.

A report holds the run's config, its training curves (drawn from ``metrics.jsonl``), every table
of ``eval.json`` and every plot the evaluation wrote. The HTML embeds images as base64 ``data:``
URIs, so the one file can be mailed or opened offline; a small inline script counts the images
that decoded (``data-images-loaded`` and
``data-errors`` on ``<body>``) so a headless browser can check the page.
A comparison report puts one column per run in every table and overlays the training curves.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import pathlib
from collections.abc import Sequence

CURVE_KEYS = ("loss", "neg_elbo", "recon", "kl", "grad_norm")
# eval.json keys that are bookkeeping, shown in the run table rather than as results
_SKIP_SECTIONS = ("plots", "wall_time_s", "cpu_time_s")


@dataclasses.dataclass(frozen=True)
class Run:
    """What a workdir holds for a report."""

    name: str
    workdir: pathlib.Path
    config: dict
    metrics: list[dict]
    evaluation: dict
    summary: dict


def _read_json(path: pathlib.Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def load_run(workdir: str | pathlib.Path, name: str | None = None) -> Run:
    """Reads ``config.json``, ``metrics.jsonl``, ``eval.json`` and ``summary.json`` (each may be
    missing, except that the directory must exist)."""
    workdir = pathlib.Path(workdir)
    if not workdir.is_dir():
        raise FileNotFoundError(f"{workdir} is not a directory; pass a training workdir")
    metrics_path = workdir / "metrics.jsonl"
    rows = []
    if metrics_path.exists():
        rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    return Run(
        name=name or workdir.name,
        workdir=workdir,
        config=_read_json(workdir / "config.json"),
        metrics=rows,
        evaluation=_read_json(workdir / "eval.json"),
        summary=_read_json(workdir / "summary.json"),
    )


def flatten(tree, prefix: str = "") -> dict[str, object]:
    """``{"a.b.c": leaf}`` for nested dicts; lists and empty dicts are leaves."""
    if isinstance(tree, dict) and tree:
        out: dict[str, object] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: tree}


def fmt(value) -> str:
    """A table cell: 4 significant digits for floats, lists joined, ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        if len(value) > 40:
            return f"[{len(value)} values] " + ", ".join(fmt(v) for v in value[:8]) + ", ..."
        return ", ".join(fmt(v) for v in value)
    return str(value)


# ------------------------------------------------------------------------ blocks and rendering


@dataclasses.dataclass
class Doc:
    """A report as a list of blocks, rendered to Markdown or HTML."""

    title: str
    blocks: list = dataclasses.field(default_factory=list)

    def heading(self, text: str, level: int = 2):
        self.blocks.append(("h", level, text))

    def para(self, text: str):
        self.blocks.append(("p", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence]):
        if rows:
            self.blocks.append(("table", list(header), [list(r) for r in rows]))

    def image(self, path: pathlib.Path, caption: str):
        self.blocks.append(("img", pathlib.Path(path), caption))

    def images_row(self, items: Sequence[tuple[pathlib.Path | None, str]]):
        self.blocks.append(("imgrow", list(items)))

    def markdown(self, base: pathlib.Path) -> str:
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            if b[0] == "h":
                out += ["#" * b[1] + " " + b[2], ""]
            elif b[0] == "p":
                out += [b[1], ""]
            elif b[0] == "table":
                header, rows = b[1], b[2]
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(header))
                out += ["| " + " | ".join(fmt(c).replace("|", "/") for c in r) + " |" for r in rows]
                out.append("")
            elif b[0] == "img":
                out += [f"![{b[2]}]({_relative(b[1], base)})", f"*{b[2]}*", ""]
            elif b[0] == "imgrow":
                header = [cap for _, cap in b[1]]
                cells = [f"![{c}]({_relative(p, base)})" if p else "-" for p, c in b[1]]
                out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                out += ["| " + " | ".join(cells) + " |", ""]
        return "\n".join(out) + "\n"

    def html(self) -> str:
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title>",
            f"<style>{_CSS}</style></head>",
            "<body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        for b in self.blocks:
            if b[0] == "h":
                parts.append(f"<h{b[1]}>{html.escape(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                parts.append(f"<p>{html.escape(b[1])}</p>")
            elif b[0] == "table":
                head = "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
                body = "".join(
                    "<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in r) + "</tr>"
                    for r in b[2]
                )
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif b[0] == "img":
                parts.append(
                    f"<figure>{_img_tag(b[1], b[2])}"
                    f"<figcaption>{html.escape(b[2])}</figcaption></figure>"
                )
            elif b[0] == "imgrow":
                cells = "".join(
                    f"<td>{_img_tag(p, c) if p else '-'}<br>{html.escape(c)}</td>" for p, c in b[1]
                )
                parts.append(f'<table class="images"><tr>{cells}</tr></table>')
        parts += [f"<script>{_CHECK_JS}</script>", "</body></html>"]
        return "\n".join(parts) + "\n"


_CSS = (
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right;font-size:13px}"
    "th{background:#eee}td:first-child{text-align:left}"
    "table.images td{text-align:center;vertical-align:top}"
    "img{max-width:100%;image-rendering:pixelated}figure{margin:1em 0}"
)
# Counts decoded images once the page has loaded, for headless checks (see tests).
_CHECK_JS = (
    "var aejaxErrors=0;window.addEventListener('error',function(){aejaxErrors++;},true);"
    "window.addEventListener('load',function(){var im=document.images,ok=0;"
    "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;}"
    "document.body.setAttribute('data-images-total',im.length);"
    "document.body.setAttribute('data-images-loaded',ok);"
    "document.body.setAttribute('data-errors',aejaxErrors);});"
)


def _relative(path: pathlib.Path, base: pathlib.Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def _img_tag(path: pathlib.Path, alt: str) -> str:
    data = base64.b64encode(pathlib.Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


# ------------------------------------------------------------------------------- contents


def training_curves(runs: Sequence[Run], path: pathlib.Path) -> pathlib.Path | None:
    """One panel per logged quantity of :data:`CURVE_KEYS`, one line per run; ``None`` when no
    run has a ``metrics.jsonl``."""
    keys = [k for k in CURVE_KEYS if any(k in row for r in runs for row in r.metrics)]
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for r in runs:
            pts = [(row["step"], row[key]) for row in r.metrics if row.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), label=r.name)
        ax.set_xlabel("step")
        ax.set_title(key + (" (nats)" if key in ("loss", "neg_elbo", "recon", "kl") else ""))
        if len(runs) > 1:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _is_matrix(v) -> bool:
    return (
        isinstance(v, dict)
        and bool(v)
        and all(isinstance(row, dict) and row for row in v.values())
        and all(not isinstance(c, (dict, list)) for row in v.values() for c in row.values())
    )


def _section_tables(doc: Doc, section: dict):
    """Dict-of-dicts of scalars as matrices (e.g. clustering scores), the rest as key/value."""
    scalars = []
    for key, value in section.items():
        if _is_matrix(value):
            cols = list(dict.fromkeys(c for row in value.values() for c in row))
            doc.para(key)
            doc.table([""] + cols, [[r] + [row.get(c) for c in cols] for r, row in value.items()])
        elif isinstance(value, dict) and all(_is_matrix(v) for v in value.values()) and value:
            for sub, matrix in value.items():
                cols = list(dict.fromkeys(c for row in matrix.values() for c in row))
                doc.para(f"{key}: {sub}")
                doc.table(
                    [""] + cols, [[r] + [row.get(c) for c in cols] for r, row in matrix.items()]
                )
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
            scalars += [(f"{key}.{k}", v) for k, v in flatten(value).items()]
        else:
            scalars.append((key, value))
    doc.table(["quantity", "value"], scalars)


def _likelihood_rows(ev: dict) -> list[tuple[str, object]]:
    return [
        (k, v)
        for k, v in ev.items()
        if "_" in k
        and k.split("_")[0] in ("test", "train", "validation")
        and not isinstance(v, dict)
    ]


def single_report(run: Run) -> Doc:
    """The report of one run (see the module docstring)."""
    doc = Doc(f"aejax report: {run.name}")
    ev, wd = run.evaluation, run.workdir
    doc.para(
        f"workdir {wd.resolve()}; checkpoint step {ev.get('step', '-')}; "
        f"dataset {ev.get('dataset', run.config.get('data', {}).get('name', '-'))}"
    )
    doc.heading("Training")
    if run.summary:
        doc.table(["quantity", "value"], list(flatten(run.summary).items()))
    curves = training_curves([run], wd / "training_curves.png")
    if curves:
        doc.image(curves, "training curves (metrics.jsonl)")
    doc.heading("Likelihood and reconstruction")
    doc.table(["metric", "value"], _likelihood_rows(ev))
    for section, value in ev.items():
        if isinstance(value, dict) and section not in _SKIP_SECTIONS:
            doc.heading(section.replace("_", " ").capitalize())
            _section_tables(doc, value)
    if "wall_time_s" in ev:
        doc.heading("Evaluation time")
        cpu = ev.get("cpu_time_s", {})
        doc.table(
            ["part", "wall seconds", "CPU seconds (all threads)"],
            [[k, v, cpu.get(k)] for k, v in ev["wall_time_s"].items()],
        )
    doc.heading("Plots")
    for name in _plot_names([run]):
        doc.image(wd / name, name)
    doc.heading("Config")
    doc.table(["key", "value"], list(flatten(run.config).items()))
    return doc


def _plot_names(runs: Sequence[Run]) -> list[str]:
    names = []
    for r in runs:
        listed = r.evaluation.get("plots") or sorted(p.name for p in r.workdir.glob("*.png"))
        names += [n for n in listed if (r.workdir / n).exists() and n != "training_curves.png"]
    return list(dict.fromkeys(names))


def compare_report(runs: Sequence[Run], out_dir: pathlib.Path) -> Doc:
    """Side by side: every table with one column per run, curves overlaid, plots in a row."""
    names = [r.name for r in runs]
    doc = Doc("aejax comparison: " + ", ".join(names))
    doc.table(["run", "workdir"], [[r.name, str(r.workdir.resolve())] for r in runs])
    doc.heading("Training")
    curves = training_curves(runs, out_dir / "training_curves.png")
    if curves:
        doc.image(curves, "training curves (metrics.jsonl), overlaid")
    doc.table(["quantity", *names], _side_by_side([r.summary for r in runs]))
    doc.heading("Evaluation")
    evals = [{k: v for k, v in r.evaluation.items() if k not in _SKIP_SECTIONS} for r in runs]
    doc.table(["metric", *names], _side_by_side(evals))
    doc.heading("Plots")
    for name in _plot_names(runs):
        doc.images_row(
            [((r.workdir / name) if (r.workdir / name).exists() else None, r.name) for r in runs]
        )
        doc.para(name)
    doc.heading("Config (keys that differ)")
    rows = _side_by_side([r.config for r in runs])
    doc.table(["key", *names], [row for row in rows if len({fmt(c) for c in row[1:]}) > 1])
    return doc


def _side_by_side(trees: Sequence[dict]) -> list[list]:
    flats = [flatten(t) for t in trees]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    return [[k, *(f.get(k) for f in flats)] for k in keys]


def write(doc: Doc, out_dir: pathlib.Path, stem: str = "report") -> tuple[pathlib.Path, ...]:
    """Writes ``out_dir/<stem>.md`` (images linked) and ``<stem>.html`` (images embedded)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, page = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    md.write_text(doc.markdown(out_dir))
    page.write_text(doc.html())
    return md, page
