"""The evaluation suite and the reports, end to end through the command lines.

One tiny run (16x16 shapes, class 1 held out of training) is trained, evaluated with every part
of the suite and reported on; the HTML is rendered in headless Chromium when it is installed.
The order of a report, the stale-evaluation warning, the better-value marking and the errors of
scripts/report.py are checked on small hand-written workdirs (no training).
"""

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, run_script, script_env

from aejax.evaluation import headline, report

EVAL_FLAGS = [
    "--progress=false",
    "--iwae_k=4",
    "--num_test=96",
    "--tsne_points=40",
    "--num_plot=96",
    "--robust_examples=32",
    "--finetune_steps=5",
    "--transfer_max_train=200",
]
PLOTS = {
    "reconstructions.png",
    "prior_samples.png",
    "interpolations.png",
    "latent_traversals.png",
    "latent_pca.png",
    "latent_tsne.png",
    "robustness.png",
}


_run = run_script  # python ARGS from the repository root; asserts exit 0


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("runs") / "tiny"
    _run(
        "scripts/train.py",
        "--config=tests/tiny_experiment.py",
        f"--workdir={workdir}",
        "--config.train.num_steps=16",
        "--config.train.checkpoint_every=16",
        "--config.data.exclude_class=1",
    )
    proc = _run("scripts/evaluate.py", f"--workdir={workdir}", *EVAL_FLAGS)
    return workdir, proc.stdout


def test_suite_writes_every_section_and_plot(evaluated):
    workdir, stdout = evaluated
    ev = json.loads((workdir / "eval.json").read_text())
    for part in ("likelihood", "images", "latent", "clustering", "transfer", "robustness"):
        assert part in ev and "skipped" not in ev[part], part
        assert f"[{part}] done" in stdout
    assert PLOTS <= set(ev["plots"]) and all((workdir / p).stat().st_size > 0 for p in PLOTS)
    assert ev["test_num_examples"] == 96 and ev["test_iwae_nll_nats"] <= ev["test_neg_elbo_nats"]
    # shapes has 3 shape classes; class 1 was held out of training
    assert ev["anomaly"]["held_out_class"] == 1
    for scores in ev["anomaly"]["scores"].values():
        assert 0.0 <= scores["auroc"] <= 1.0
    for scores in ev["clustering"]["scores"].values():
        assert 1 / 3 <= scores["acc"] <= 1.0  # Hungarian matching is never below chance
    assert set(ev["transfer"]["probe_accuracy"]["latent"]) == {"10", "100", "all"}
    curves = ev["robustness"]["curves"]
    assert set(curves) == {"noise", "rotation", "scale"}
    noise = curves["noise"]
    assert noise["recon_mse"][0] == pytest.approx(noise["clean_recon_mse"], rel=1e-5)
    collapse = ev["collapse"]
    assert (
        0.0 <= collapse["mutual_information_nats"] <= collapse["mutual_information_max_nats"] + 0.1
    )
    np.testing.assert_allclose(collapse["kl_per_dim"], ev["test_kl_per_dim"], rtol=1e-4, atol=1e-6)
    assert "disentanglement" in ev  # computed, or skipped with a note when the module is absent


def test_subset_suite_keeps_other_sections(evaluated):
    workdir, _ = evaluated
    before = json.loads((workdir / "eval.json").read_text())
    _run("scripts/evaluate.py", f"--workdir={workdir}", "--suite=collapse", *EVAL_FLAGS)
    after = json.loads((workdir / "eval.json").read_text())
    assert after["robustness"] == before["robustness"]
    assert after["clustering"] == before["clustering"]
    assert after["collapse"]["mutual_information_nats"] == pytest.approx(
        before["collapse"]["mutual_information_nats"], rel=1e-6
    )  # same keys, same estimate


def _embedded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def _embedded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def _compare(evaluated, tmp_path):
    """A comparison of the evaluated run with a copy of itself: (out dir, names)."""
    workdir, _ = evaluated
    other = tmp_path / "other"
    shutil.copytree(workdir, other)
    out = tmp_path / "cmp"
    _run("scripts/report.py", "--compare", str(workdir), str(other), f"--out={out}")
    return out


def test_report_embeds_every_plot_and_table(evaluated, tmp_path):
    workdir, _ = evaluated
    _run("scripts/report.py", f"--workdir={workdir}")
    md = (workdir / "report.md").read_text()
    page = (workdir / "report.html").read_text()
    for plot in PLOTS | {"training_curves.png", "kl_per_dim.png"}:
        assert f"]({plot})" in md
        assert (workdir / plot).read_bytes() in _embedded_pngs(page)
    assert 'src="http' not in page and "<link" not in page  # self-contained
    for heading in ("Clustering", "Transfer", "Robustness", "Anomaly", "Collapse"):
        assert f"### {heading}" in md and f"<h3>{heading}</h3>" in page
    ev = json.loads((workdir / "eval.json").read_text())
    assert f"{ev['clustering']['scores']['latent']['acc']:.4g}" in md
    # Captions say what a plot shows, not its file name.
    assert "*Reconstructions: rows alternate test inputs" in md
    assert "<figcaption>reconstructions.png</figcaption>" not in page
    # A list-valued metric is a bar chart, not a cell of numbers.
    kl_row = next(line for line in md.splitlines() if line.startswith("| test_kl_per_dim |"))
    assert "plotted under 'Latent dimensions'" in kl_row

    out = _compare(evaluated, tmp_path)
    cmp_md = (out / "report.md").read_text()
    assert "| metric | tiny | other |" in cmp_md  # raw side-by-side table, collapsed
    row = next(line for line in cmp_md.splitlines() if line.startswith("| test_neg_elbo_nats |"))
    assert row.count(f"{ev['test_neg_elbo_nats']:.4g}") == 2
    # identical runs: nothing is marked better, every difference is 0
    nll = next(line for line in cmp_md.splitlines() if line.startswith("| test NLL (IWAE, K=4)"))
    assert "**" not in nll and nll.rstrip(" |").endswith("| 0")
    assert "The configs are identical" in cmp_md
    # each run's plots, plus the overlaid curves and the grouped KL bars
    assert len(_embedded_pngs((out / "report.html").read_text())) == 2 * len(PLOTS) + 2


def test_run_report_reads_headline_first(evaluated):
    workdir, _ = evaluated
    _run("scripts/report.py", f"--workdir={workdir}")
    md = (workdir / "report.md").read_text()
    order = [
        md.index("## Headline"),
        md.index("## Training"),
        md.index("!["),  # the first plot
        md.index("## Details"),
        md.index("<details>"),
        md.index("params_sha256"),
    ]
    assert order == sorted(order), order
    ev = json.loads((workdir / "eval.json").read_text())
    nll = next(line for line in md.splitlines() if line.startswith("| test NLL (IWAE, K=4) |"))
    assert f"| {ev['test_iwae_nll_nats']:.4g} | nats/example | lower |" in nll
    assert "| probe accuracy, 100 labels, on E[z\\|x] |" in md  # | escaped in a cell
    assert "| clustering ACC on pixels (baseline) |" in md
    page = (workdir / "report.html").read_text()
    assert page.index('<table class="headline" id="headline">') < page.index("<img")
    assert page.index("<img") < page.index("<details>") < page.index("params_sha256")


# ------------------------------------------------------------------ hand-written workdirs


def _fake_run(path, *, nll=90.0, acc=0.6, kl=10.0, beta=1.0, trained=400, evaluated=400):
    """A workdir with what train.py and evaluate.py write, numbers chosen by the test."""
    path.mkdir(parents=True)
    config = {"data": {"name": "shapes"}, "model": {"latent_dim": 3}, "objective": {"beta": beta}}
    (path / "config.json").write_text(json.dumps(config))
    summary = {"step": trained, "params_sha256": "ab" * 32, "examples_per_s": 1000.0}
    (path / "summary.json").write_text(json.dumps(summary))
    rows = [{"step": s, "loss": 100.0 - s / 10, "kl": s / 100} for s in (100, 200)]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ev = {
        "step": evaluated,
        "iwae_k": 10,
        "test_iwae_nll_nats": nll,
        "test_kl_nats": kl,
        "test_kl_per_dim": [kl / 2, kl / 2, 0.0],
        "clustering": {"scores": {"latent": {"acc": acc, "nmi": 0.1}}},
    }
    (path / "eval.json").write_text(json.dumps(ev))
    for step in sorted({trained, evaluated}):
        (path / "checkpoints" / str(step)).mkdir(parents=True)
        (path / "checkpoints" / str(step) / "aejax_manifest.json").write_text("{}")
    return path


@pytest.mark.parametrize("trained, stale", [(400, False), (600, True)])
def test_stale_evaluation_is_flagged_at_the_top(tmp_path, trained, stale):
    run = report.load_run(_fake_run(tmp_path / "run", trained=trained, evaluated=400))
    md = report.single_report(run).markdown(tmp_path)
    page = report.single_report(run).html()
    if not stale:
        assert "Warning" not in md and 'class="warning"' not in page
        return
    warning = next(line for line in md.splitlines() if line.startswith("> **Warning:**"))
    assert "stale evaluation" in warning and "step 400" in warning and "600" in warning
    assert "scripts/evaluate.py --workdir" in warning
    assert md.index("> **Warning:**") < md.index("## Headline")
    assert page.index('class="warning"') < page.index('id="headline"')


def test_stale_flag_follows_the_newest_checkpoint(tmp_path):
    path = _fake_run(tmp_path / "run", trained=400, evaluated=400)
    (path / "checkpoints" / "800").mkdir()  # a save that did not complete: no manifest
    assert report.warnings(report.load_run(path)) == []
    (path / "checkpoints" / "800" / "aejax_manifest.json").write_text("{}")
    (warning,) = report.warnings(report.load_run(path))
    assert "newest checkpoint: 800" in warning


def test_compare_marks_the_better_value(tmp_path):
    a = report.load_run(_fake_run(tmp_path / "a", nll=90.0, acc=0.6, kl=10.0))
    b = report.load_run(_fake_run(tmp_path / "b", nll=85.0, acc=0.5, kl=12.0, beta=4.0))
    rows = {r[0]: r for r in headline.compare_rows([a.evaluation, b.evaluation], [{}, {}])}
    nll, acc, kl = (
        rows["test NLL (IWAE, K=10)"],
        rows["clustering ACC on E[z|x]"],
        rows["test KL(q(z|x) || p(z))"],
    )
    # [metric, unit, better, a, b, b - a]: lower NLL is better, higher accuracy is better
    assert nll[2] == "lower" and [c.best for c in nll[3:5]] == [False, True]
    assert nll[5] == "\N{MINUS SIGN}5"
    assert acc[2] == "higher" and [c.best for c in acc[3:5]] == [True, False]
    assert kl[2] == "-" and not any(c.best for c in kl[3:5])  # no better direction

    out = tmp_path / "cmp"
    doc = report.compare_report([a, b], out)
    md, page = doc.markdown(out), doc.html()
    assert "| test NLL (IWAE, K=10) | nats/example | lower | 90 | **85** | \N{MINUS SIGN}5 |" in md
    assert '<td class="best"><strong>85</strong></td>' in page
    assert '<td class="best"><strong>0.6</strong></td>' in page
    # what differs comes first, then the headline, then the curves
    assert "| objective.beta | 1 | 4 |" in md
    assert md.index("## What differs") < md.index("## Headline") < md.index("## Training")


@pytest.mark.parametrize("case", ["empty", "missing", "compare_missing"])
def test_report_on_empty_or_missing_workdir_is_one_line_error(tmp_path, case):
    empty = tmp_path / "empty"
    empty.mkdir()
    good = _fake_run(tmp_path / "good")
    missing = tmp_path / "nope"
    args = {
        "empty": [f"--workdir={empty}"],
        "missing": [f"--workdir={missing}"],
        "compare_missing": ["--compare", str(good), str(missing), f"--out={tmp_path / 'o'}"],
    }[case]
    proc = subprocess.run(
        [PYTHON, "scripts/report.py", *args],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr[-2000:]
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert str(empty if case == "empty" else missing) in proc.stderr
    assert list(empty.iterdir()) == [] and not (tmp_path / "o").exists()  # nothing written


# ------------------------------------------------------------------ headless Chromium


def _render(browser: str, page) -> tuple[str, str]:
    """(DOM after load, Chromium's log): the page's console messages are logged as CONSOLE."""
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def _check_rendered(browser, page, num_images):
    dom, log = _render(browser, page)
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-errors="0"' in body
    assert f'data-images-total="{num_images}"' in body
    assert f'data-images-loaded="{num_images}"' in body
    widths = [int(w) for w in re.findall(r'<img[^>]*data-natural-width="(\d+)"', dom)]
    assert len(widths) == num_images and min(widths) > 0, widths
    headline_table = re.search(r'<table class="headline" id="headline">(.*?)</table>', dom, re.S)
    assert headline_table is not None and headline_table.group(1).count("<tr>") > 5
    assert dom.index('id="headline"') < dom.index("<img")


def test_report_renders_in_headless_chromium(evaluated, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    workdir, _ = evaluated
    _run("scripts/report.py", f"--workdir={workdir}")
    _check_rendered(browser, workdir / "report.html", len(PLOTS) + 2)
    out = _compare(evaluated, tmp_path)
    _check_rendered(browser, out / "report.html", 2 * len(PLOTS) + 2)


def test_the_description_names_the_methods_main_weight(tmp_path):
    run = _fake_run(tmp_path / "f")
    config = {"objective": {"name": "factor_vae"}, "factor_vae": {"tc_weight": 20.0}}
    (run / "config.json").write_text(json.dumps(config))
    assert "objective factor_vae (tc_weight=20.0)" in report.describe(report.load_run(run))
    old = {"objective": {"name": "elbo", "beta": 4.0}}  # a run saved before the method groups
    (run / "config.json").write_text(json.dumps(old))
    assert "objective elbo (beta=4.0)" in report.describe(report.load_run(run))
