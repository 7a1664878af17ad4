"""A report as a list of blocks, rendered to Markdown (images linked) or one HTML page (images
embedded as base64 ``data:`` URIs, so the file can be mailed or opened offline).

Blocks: headings, paragraphs, warnings, tables (cells may be :class:`Cell`\\ s marked as the best
value), images with captions, rows of images, and collapsed ``<details>`` sections for what a
reader rarely needs (hashes, raw tables, the config). GitHub renders ``<details>`` in Markdown
too.

The HTML carries a small script, in ``<head>`` so it sees every error: once the page has loaded
it writes ``data-natural-width`` on each ``<img>`` and ``data-images-total``,
``data-images-loaded`` and ``data-errors`` (uncaught errors, failed resources and
``console.error`` calls) on ``<body>``, so a headless browser can check the page (see
``tests/test_report.py``).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import os
from collections.abc import Sequence

from aejax import paths


def flatten(tree, prefix: str = "") -> dict[str, object]:
    """``{"a.b.c": leaf}`` for nested dicts; lists and empty dicts are leaves."""
    if isinstance(tree, dict) and tree:
        out: dict[str, object] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: tree}


def fmt(value) -> str:
    """A table cell: 4 significant digits for floats (thousands separated from 10,000 on, not
    ``5.485e+04``), lists joined, ``-`` for missing."""
    if isinstance(value, Cell):
        return value.text
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if 1e4 <= abs(value) < 1e15 else f"{value:.4g}"
    if isinstance(value, list):
        if len(value) > 40:
            return f"[{len(value)} values] " + ", ".join(fmt(v) for v in value[:8]) + ", ..."
        return ", ".join(fmt(v) for v in value)
    return str(value)


@dataclasses.dataclass(frozen=True)
class Cell:
    """A table cell with its text already formatted; ``best`` marks the better value of a row
    (bold in Markdown; bold on green, class ``best``, in HTML)."""

    text: str
    best: bool = False


@dataclasses.dataclass
class Doc:
    """A report as a list of blocks, rendered to Markdown or HTML."""

    title: str
    blocks: list = dataclasses.field(default_factory=list)

    def heading(self, text: str, level: int = 2):
        self.blocks.append(("h", level, text))

    def para(self, text: str):
        self.blocks.append(("p", text))

    def warning(self, text: str):
        """A highlighted line at this place (e.g. "this evaluation is stale")."""
        self.blocks.append(("warn", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence], css_class: str = ""):
        """``css_class`` also becomes the table's ``id`` in HTML (``headline``: the test and a
        reader's browser can find the table)."""
        if rows:
            self.blocks.append(("table", list(header), [list(r) for r in rows], css_class))

    def image(self, path: paths.Path, caption: str):
        self.blocks.append(("img", paths.resolve(path), caption))

    def images_row(self, items: Sequence[tuple[paths.Path | None, str]]):
        self.blocks.append(("imgrow", list(items)))

    @contextlib.contextmanager
    def details(self, summary: str):
        """Blocks added inside ``with doc.details("..."):`` are collapsed until clicked."""
        self.blocks.append(("open", summary))
        try:
            yield
        finally:
            self.blocks.append(("close",))

    def markdown(self, base: paths.Path) -> str:
        """Markdown with images linked relative to ``base`` (the directory of the file)."""
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                out += ["#" * b[1] + " " + b[2], ""]
            elif kind == "p":
                out += [b[1], ""]
            elif kind == "warn":
                out += [f"> **Warning:** {b[1]}", ""]
            elif kind == "table":
                header, rows = b[1], b[2]
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(header))
                out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
                out.append("")
            elif kind == "img":
                out += [f"![{b[2]}]({_relative(b[1], base)})", "", f"*{b[2]}*", ""]
            elif kind == "imgrow":
                header = [cap for _, cap in b[1]]
                cells = [f"![{c}]({_relative(p, base)})" if p else "-" for p, c in b[1]]
                out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                out += ["| " + " | ".join(cells) + " |", ""]
            elif kind == "open":
                out += [f"<details><summary>{html.escape(b[1])}</summary>", ""]
            elif kind == "close":
                out += ["</details>", ""]
        return "\n".join(out) + "\n"

    def html(self) -> str:
        """One self-contained page (images embedded, no external resources)."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title>",
            f"<style>{_CSS}</style>",
            f"<script>{_CHECK_JS}</script></head>",
            "<body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                parts.append(f"<h{b[1]}>{html.escape(b[2])}</h{b[1]}>")
            elif kind == "p":
                parts.append(f"<p>{html.escape(b[1])}</p>")
            elif kind == "warn":
                parts.append(f'<p class="warning" role="alert">Warning: {html.escape(b[1])}</p>')
            elif kind == "table":
                head = "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
                body = "".join("<tr>" + "".join(_html_cell(c) for c in r) + "</tr>" for r in b[2])
                attrs = f' class="{b[3]}" id="{b[3]}"' if b[3] else ""
                parts.append(
                    f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                )
            elif kind == "img":
                parts.append(
                    f"<figure>{_img_tag(b[1], b[2])}"
                    f"<figcaption>{html.escape(b[2])}</figcaption></figure>"
                )
            elif kind == "imgrow":
                cells = "".join(
                    f"<td>{_img_tag(p, c) if p else '-'}<br>{html.escape(c)}</td>" for p, c in b[1]
                )
                parts.append(f'<table class="images"><tr>{cells}</tr></table>')
            elif kind == "open":
                parts.append(f"<details><summary>{html.escape(b[1])}</summary>")
            elif kind == "close":
                parts.append("</details>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _md_cell(c) -> str:
    text = fmt(c).replace("|", "\\|")  # GitHub shows \| as |
    return f"**{text}**" if isinstance(c, Cell) and c.best and text else text


def _html_cell(c) -> str:
    text = html.escape(fmt(c))
    if isinstance(c, Cell) and c.best:
        return f'<td class="best"><strong>{text}</strong></td>'
    return f"<td>{text}</td>"


_CSS = (
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}"
    "th{background:#eee}td:first-child,th:first-child{text-align:left}"
    "table.headline td,table.headline th{font-size:14px}"
    "table.headline td:last-child{text-align:left;color:#555;max-width:520px}"
    "table.headline th:last-child{text-align:left}"
    "td.best{background:#dff3df}"
    "table.images td{text-align:center;vertical-align:top}"
    "img{max-width:100%}figure{margin:1em 0}"
    "figcaption{color:#444;font-size:14px;max-width:900px}"
    ".warning{background:#fff4ce;border-left:5px solid #e0a800;padding:8px 12px}"
    "details{margin:0.5em 0}summary{cursor:pointer;font-weight:bold;padding:4px 0}"
)
# Runs in <head>: counts errors from the start; on load records what a headless check needs.
_CHECK_JS = (
    "(function(){var errors=0;"
    "window.addEventListener('error',function(){errors++;},true);"
    "var ce=console.error;console.error=function(){errors++;return ce.apply(console,arguments);};"
    "window.addEventListener('load',function(){var im=document.images,ok=0;"
    "for(var i=0;i<im.length;i++){im[i].setAttribute('data-natural-width',im[i].naturalWidth);"
    "if(im[i].complete&&im[i].naturalWidth>0)ok++;}"
    "var b=document.body;b.setAttribute('data-images-total',im.length);"
    "b.setAttribute('data-images-loaded',ok);b.setAttribute('data-errors',errors);});})();"
)


def _relative(path: paths.Path, base: paths.Path) -> str:
    path, base = paths.resolve(path), paths.resolve(base)
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return os.fspath(path)


def _img_tag(path: paths.Path, alt: str) -> str:
    data = base64.b64encode(read_png(path)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def read_png(path: paths.Path) -> bytes:
    """The one place a report reads an image file (to embed it)."""
    return paths.resolve(path).read_bytes()
