"""The evaluation suite and the reports, end to end through the command lines.

One tiny run (16x16 shapes, class 1 held out of training) is trained, evaluated with every part
of the suite and reported on; the HTML is rendered in headless Chromium when it is installed.
"""

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import PYTHON, REPO, script_env

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


def _run(*args):
    proc = subprocess.run(
        [PYTHON, *args], cwd=REPO, env=script_env(), capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


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


def test_report_embeds_every_plot_and_table(evaluated, tmp_path):
    workdir, _ = evaluated
    _run("scripts/report.py", f"--workdir={workdir}")
    md = (workdir / "report.md").read_text()
    page = (workdir / "report.html").read_text()
    for plot in PLOTS | {"training_curves.png"}:
        assert f"]({plot})" in md
        assert (workdir / plot).read_bytes() in _embedded_pngs(page)
    assert 'src="http' not in page and "<link" not in page  # self-contained
    for heading in ("Clustering", "Transfer", "Robustness", "Anomaly", "Collapse", "Config"):
        assert f"## {heading}" in md and f"<h2>{heading}</h2>" in page
    ev = json.loads((workdir / "eval.json").read_text())
    assert f"{ev['clustering']['scores']['latent']['acc']:.4g}" in md

    other = tmp_path / "other"
    shutil.copytree(workdir, other)
    out = tmp_path / "cmp"
    _run("scripts/report.py", "--compare", str(workdir), str(other), f"--out={out}")
    cmp_md = (out / "report.md").read_text()
    assert "| metric | tiny | other |" in cmp_md
    row = next(line for line in cmp_md.splitlines() if line.startswith("| test_neg_elbo_nats |"))
    assert row.count(f"{ev['test_neg_elbo_nats']:.4g}") == 2
    assert len(_embedded_pngs((out / "report.html").read_text())) == 2 * len(PLOTS) + 1


def test_report_renders_in_headless_chromium(evaluated):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    workdir, _ = evaluated
    if not (workdir / "report.html").exists():
        _run("scripts/report.py", f"--workdir={workdir}")
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            (workdir / "report.html").resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", proc.stdout).group(1)
    total = int(re.search(r'data-images-total="(\d+)"', body).group(1))
    assert total == len(PLOTS) + 1
    assert f'data-images-loaded="{total}"' in body
    assert 'data-errors="0"' in body
