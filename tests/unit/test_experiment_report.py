"""Report rendering from a made-up grid: every file is written, verdicts follow the paired interval,
and the paper's numbers appear only in their labelled column."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from cosmocore.experiments import paper, plots
from cosmocore.experiments.report import ReportFiles, headline, judge, render_report, reproduce_command
from cosmocore.experiments.results import (
    GridInfo,
    PairedRow,
    Results,
    RunResult,
    SelfCorrectionRow,
    TableRow,
    load_results,
    save_results,
)
from cosmocore.experiments.stats import paired_difference, summarise

SEEDS = (1, 2, 3)
PPO_HALLUCINATION = {1: 0.62, 2: 0.58, 3: 0.66}  # chosen apart from every number the paper reports
METRICS = ("eval/pass_at_1", "eval/hallucination")
BETTER, WORSE, UNRESOLVED = (-0.1, (0.01, -0.01, 0.0)), (0.1, (0.01, -0.01, 0.0)), (0.0, (0.05, -0.05, 0.01))
PLOTS = ("learning_curves", "status_breakdown", "buffer_occupancy", "entropy_by_valence", "cycles_to_zero_error")


def _run(method: str, seed: int, hallucination: float) -> RunResult:
    start = 0.9  # hallucination before training, the same for both methods
    curve = {"completions": (0, 320, 640), "eval/hallucination": (start, (start + hallucination) / 2, hallucination),
             "eval/pass_at_1": (1 - start, 1 - (start + hallucination) / 2, 1 - hallucination)}
    buffer = {"completions": (320, 640), "buffer/size": (300.0 + seed, 590.0 + seed),
              "buffer/dream_size": (40.0, 70.0), "buffer/pruned_total": (11.0, 47.0)} if method != "ppo" else {}
    return RunResult(method, seed, 12.5 + seed, {"eval/pass_at_1": 1 - hallucination,
                                                  "eval/hallucination": hallucination},
                     curve=curve, buffer=buffer, entropy_by_valence={"low": 0.71 + 0.01 * seed, "rest": 0.37},
                     status_counts={"passed": 90 + seed, "wrong_answer": 400, "name_error": 61, "syntax_error": 89})


def synthetic(delta: float, noise: tuple[float, float, float]) -> Results:
    """ppo and cosmocore on 3 seeds; cosmocore's hallucination = ppo's + delta + noise (per seed)."""
    value = {("ppo", s): PPO_HALLUCINATION[s] for s in SEEDS}
    value |= {("cosmocore", s): PPO_HALLUCINATION[s] + delta + n for s, n in zip(SEEDS, noise, strict=True)}
    runs = tuple(_run(m, s, value[m, s]) for m in ("ppo", "cosmocore") for s in SEEDS)
    per_seed = {(m, metric): {r.seed: r.final[metric] or 0.0 for r in runs if r.method == m}
                for m in ("ppo", "cosmocore") for metric in METRICS}
    table = tuple(TableRow.from_summary(m, metric, summarise(list(per_seed[m, metric].values())))
                  for m in ("ppo", "cosmocore") for metric in METRICS)
    paired = tuple(PairedRow.from_summary("cosmocore", "ppo", metric,
                                          paired_difference(per_seed["cosmocore", metric], per_seed["ppo", metric]))
                   for metric in METRICS)
    sc = tuple(SelfCorrectionRow(m, s, pruning, 9 + s if m == "ppo" else (5 + s if pruning else None), 20,
                                 {"faulty_join": 0.35}) for m in ("ppo", "cosmocore") for s in SEEDS
               for pruning in (True, False))
    grid = GridInfo("quick", "miniworld-py", "", ("ppo", "cosmocore"), SEEDS, 20, 32, 10, 64, "default")
    return Results(grid, runs, METRICS, table, paired, sc)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReportFiles]:
    """The report of the better and the worse grid, rendered once for the tests that read it."""
    return {name: render_report(synthetic(*case), tmp_path_factory.mktemp(name))
            for name, case in (("better", BETTER), ("worse", WORSE))}


def test_rendering_writes_markdown_html_csv_and_every_plot(rendered: dict[str, ReportFiles]) -> None:
    files = rendered["better"]
    tmp_path = files.markdown.parent
    assert set(files.plots) == set(PLOTS)
    for png in files.plots.values():
        assert png.parent == tmp_path and png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    markdown, page = files.markdown.read_text(), files.html.read_text()
    for png in files.plots.values():
        assert f"]({png.name})" in markdown and f'<img src="{png.name}"' in page
    assert not re.search(r"https?://|<script|<link", page)  # self-contained: nothing fetched from elsewhere
    assert "cosmocore reproduce --grid quick --methods ppo cosmocore --seeds 1 2 3 --world miniworld-py" in markdown
    assert "budget per run (executed completions) | 640" in markdown


def test_the_csv_has_one_line_per_method_and_metric_with_the_table_values(rendered: dict[str, ReportFiles]) -> None:
    results = synthetic(*BETTER)
    rows = list(csv.DictReader(rendered["better"].csv.open()))
    assert [(r["method"], r["metric"]) for r in rows] == [(t.method, t.metric) for t in results.table]
    assert [float(r["mean"]) for r in rows] == [t.mean for t in results.table]
    assert [int(r["n"]) for r in rows] == [3, 3, 3, 3]


@pytest.mark.parametrize(("name", "hallucination_words", "pass_words"), [
    ("better", "CosmoCore lowered held-out hallucination vs ppo by 0.10 [", "CosmoCore raised held-out pass@1 vs ppo"),
    ("worse", "CosmoCore raised held-out hallucination vs ppo by 0.10 [", "CosmoCore lowered held-out pass@1 vs ppo"),
])
def test_verdicts_say_better_or_worse_by_the_direction_of_the_metric(
        rendered: dict[str, ReportFiles], name: str, hallucination_words: str, pass_words: str) -> None:
    results = synthetic(*(BETTER if name == "better" else WORSE))
    by_metric = {r.metric: judge(r) for r in results.paired}
    assert by_metric["eval/hallucination"].outcome == by_metric["eval/pass_at_1"].outcome == name
    assert by_metric["eval/hallucination"].text.startswith(hallucination_words)
    assert f"(3 seeds): {name}." in by_metric["eval/hallucination"].text
    assert by_metric["eval/pass_at_1"].text.startswith(pass_words)
    tally = "better on 2 and worse on 0" if name == "better" else "better on 0 and worse on 2"
    for shown in (headline(results), rendered[name].markdown.read_text()):
        assert by_metric["eval/hallucination"].text in shown
        assert f"Against ppo: CosmoCore was {tally} of 2 metrics" in shown


def test_an_interval_that_holds_zero_gives_no_verdict(tmp_path: Path) -> None:
    results = synthetic(*UNRESOLVED)
    verdicts = [judge(r) for r in results.paired]
    assert [v.outcome for v in verdicts] == ["unresolved", "unresolved"]
    assert all("no difference the interval can resolve" in v.text for v in verdicts)
    assert not re.search(r"\b(lowered|raised)\b", headline(results))
    assert "better on 0 and worse on 0 of 2 metrics" in headline(results)


def test_one_seed_or_an_unjudged_metric_gets_no_better_or_worse() -> None:
    one_seed = judge(PairedRow("cosmocore", "ppo", "eval/hallucination", -0.2, 0.0, -0.2, -0.2, 1))
    assert one_seed.outcome == "no verdict" and "one seed gives no interval" in one_seed.text
    unknown = judge(PairedRow("cosmocore", "ppo", "perf/tagger_ms", 3.0, 0.5, 2.5, 3.5, 3))
    assert unknown.outcome == "changed"
    assert unknown.text == "CosmoCore raised perf/tagger_ms vs ppo by 3.00 [2.50, 3.50] (3 seeds)."
    slower = judge(PairedRow("cosmocore", "uniform-replay", "sample_efficiency", 640.0, 40.0, 600.0, 700.0, 3))
    assert slower.outcome == "worse"  # more completions to reach 80% is worse


def _paper_strings() -> list[str]:
    return [p.text() for p in paper.TABLE_1] + [c.claim for c in paper.CLAIMS]


def _columns_holding(text: str, html_row: str) -> list[int]:
    """The indices of the cells of one `<tr>` line that contain `text`."""
    return [i for i, cell in enumerate(re.findall(r"<t[dh]>(.*?)</t[dh]>", html_row)) if text in cell]


def test_paper_numbers_appear_only_in_the_labelled_column(rendered: dict[str, ReportFiles]) -> None:
    results = synthetic(*BETTER)
    files = rendered["better"]
    lines = files.markdown.read_text().splitlines()
    header = next(line for line in lines if paper.PAPER_COLUMN in line)
    column = [c.strip() for c in header.strip("|").split("|")].index(paper.PAPER_COLUMN)
    for claim in _paper_strings():
        hits = [line for line in lines if claim in line]
        assert hits, claim
        for line in hits:
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert [i for i, c in enumerate(cells) if claim in c] == [column], (claim, line)
    page = files.html.read_text()
    for claim in _paper_strings():
        hits = [line for line in page.splitlines() if html.escape(claim) in line]
        assert hits and all(_columns_holding(html.escape(claim), line) == [column] for line in hits), claim
    for ours in (files.csv.read_text(), headline(results)):
        assert not any(claim in ours for claim in _paper_strings())


def _paper_table_row(files: ReportFiles, claim: str) -> list[str]:
    row = next(line for line in files.markdown.read_text().splitlines() if line.startswith(f"| {claim}"))
    return [c.strip() for c in row.strip("|").split("|")]


def test_every_paper_number_is_on_the_line_it_cites() -> None:
    text = Path(__file__).resolve().parents[3] / "shared" / paper.PAPER_TEXT
    if not text.is_file():
        pytest.skip(f"the paper's text is not at {text}")
    lines = text.read_text().splitlines()
    cited = [(p.source, [f"{x:.2f}" for x in (p.baseline, p.cosmocore) if x is not None]) for p in paper.TABLE_1]
    cited += [(c.source, re.findall(r"\d+(?:\.\d+)?", c.claim)) for c in paper.CLAIMS]
    for source, numbers in cited:
        line = lines[int(re.findall(r"line (\d+)", source)[0]) - 1]
        assert numbers and all(n in line for n in numbers), (source, numbers, line)


def test_table_1_rows_are_matched_by_task_source() -> None:
    assert [p.benchmark for p in paper.table_1_rows_for("miniworld-py")] == ["Mini-World"]
    assert len(paper.table_1_rows_for("miniworld-spark")) == 3 and paper.table_1_rows_for("mbpp") == ()


def test_our_column_beside_the_paper_comes_from_our_data(rendered: dict[str, ReportFiles]) -> None:
    better = _paper_table_row(rendered["better"], "hallucination on Mini-World,")
    worse = _paper_table_row(rendered["worse"], "hallucination on Mini-World,")
    assert better[1].startswith("0.62 -> 0.52 (-16%)") and worse[1].startswith("0.62 -> 0.72 (+16%)")
    assert better[2] == worse[2] == "0.30 -> 0.17 (-43%)"  # the paper's cell does not move with our data
    humaneval = _paper_table_row(rendered["better"], "hallucination on HumanEval,")
    assert humaneval[1] == "not run (this grid ran on miniworld-py)"
    cycles = _paper_table_row(rendered["better"], "Mini-World self-correction")
    assert cycles[1].startswith("ppo 11.0 -> cosmocore 7.0 cycles (-36%)")  # seeds 1-3: 10,11,12 and 6,7,8
    entropy = _paper_table_row(rendered["better"], "Token entropy")
    assert entropy[1].startswith("1.97x")  # low 0.72, 0.73, 0.74 over rest 0.37


def test_plots_are_skipped_without_data(tmp_path: Path) -> None:
    results = synthetic(*BETTER)
    bare = Results(results.grid, tuple(RunResult(r.method, r.seed, r.wall_s, r.final) for r in results.runs),
                   results.metrics, results.table, results.paired)
    assert plots.render_plots(bare, tmp_path) == {}
    assert list(tmp_path.iterdir()) == []


def test_a_re_render_from_saved_results_is_identical(rendered: dict[str, ReportFiles], tmp_path: Path) -> None:
    original = rendered["worse"]
    saved = load_results(save_results(tmp_path / "results.json", synthetic(*WORSE)))
    assert headline(saved) == headline(synthetic(*WORSE))
    again = render_report(saved, tmp_path, command="cosmocore demo --out out/demo")
    for name, png in original.plots.items():
        assert again.plots[name].read_bytes() == png.read_bytes()  # deterministic plots
    before, after = original.markdown.read_text().splitlines(), again.markdown.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    folder = original.markdown.parent
    assert changed == [(reproduce_command(saved, folder), "cosmocore demo --out out/demo"),
                       (f"cosmocore report {folder}", f"cosmocore report {tmp_path}")]
