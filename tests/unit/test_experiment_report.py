"""Report rendering from a made-up grid: every file is written, the answer comes first in at most five
lines, verdicts are the corrected family's, and the paper's numbers appear only in their labelled column."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from cosmocore.experiments import paper, plots
from cosmocore.experiments.aggregate import PRIMARY, results_from_runs
from cosmocore.experiments.report import ReportFiles, answer_lines, headline, render_report, reproduce_command
from cosmocore.experiments.results import GridInfo, Results, RunResult, SelfCorrectionRow, load_results, save_results

SEEDS = (1, 2, 3)
METHODS = ("ppo", "uniform-replay", "cosmocore")
START = 0.1  # held-out pass@1 before training, the same for every run
PPO_HALLUCINATION = {1: 0.62, 2: 0.58, 3: 0.66}  # chosen apart from every number the paper reports
UNIFORM_NOISE = (0.005, -0.004, 0.0)  # uniform-replay's end pass@1 = ppo's + this
BETTER, WORSE, UNRESOLVED = (0.1, (0.01, -0.01, 0.0)), (-0.1, (0.01, -0.01, 0.0)), (0.0, (0.05, -0.05, 0.01))
PLOTS = ("learning_curves", "status_breakdown", "buffer_occupancy", "entropy_by_valence", "cycles_to_zero_error")


def _run(method: str, seed: int, end: float) -> RunResult:
    """A finished run whose held-out pass@1 went from START to `end` (failures all wrong answers, so
    hallucination = 1 - pass@1 as under the default reward)."""
    curve = {"completions": (0, 320, 640), "eval/pass_at_1": (START, (START + end) / 2, end),
             "eval/hallucination": (1 - START, 1 - (START + end) / 2, 1 - end)}
    buffer = {"completions": (320, 640), "buffer/size": (300.0 + seed, 590.0 + seed),
              "buffer/dream_size": (40.0, 70.0), "buffer/pruned_total": (11.0, 47.0)} if method != "ppo" else {}
    final = {"eval/pass_at_1_start": START, "eval/pass_at_1": end, PRIMARY: end - START,
             "eval/hallucination": 1 - end, "eval/status/wrong_answer": 1 - end, "eval/status/syntax_error": 0.0,
             "sample_efficiency": 320.0 + 10 * seed, "update/gradient_steps": 20.0 if method == "ppo" else 40.0,
             "perf/wall_s": 12.5 + seed, "buffer/size": None if method == "ppo" else 590.0 + seed}
    return RunResult(method, seed, 12.5 + seed, final, curve=curve, buffer=buffer,
                     entropy_by_valence={"low": 0.71 + 0.01 * seed, "rest": 0.37},
                     status_counts={"passed": 90 + seed, "wrong_answer": 400, "name_error": 61, "syntax_error": 89})


def synthetic(delta: float, noise: tuple[float, float, float]) -> Results:
    """ppo, uniform-replay and cosmocore on 3 seeds; cosmocore's end pass@1 = ppo's + delta + noise (per seed)."""
    ppo_end = {s: 1 - PPO_HALLUCINATION[s] for s in SEEDS}
    end = {("ppo", s): ppo_end[s] for s in SEEDS}
    end |= {("uniform-replay", s): ppo_end[s] + n for s, n in zip(SEEDS, UNIFORM_NOISE, strict=True)}
    end |= {("cosmocore", s): ppo_end[s] + delta + n for s, n in zip(SEEDS, noise, strict=True)}
    runs = [_run(m, s, end[m, s]) for m in METHODS for s in SEEDS]
    sc = tuple(SelfCorrectionRow(m, s, pruning, 9 + s if m == "ppo" else (5 + s if pruning else None), 20,
                                 {"faulty_join": 0.35}) for m in ("ppo", "cosmocore") for s in SEEDS
               for pruning in (True, False))
    grid = GridInfo("quick", "miniworld-py", "", METHODS, SEEDS, 20, 32, 10, 64, "default")
    return results_from_runs(grid, runs, sc)


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
    assert ("cosmocore reproduce --grid quick --methods ppo uniform-replay cosmocore --seeds 1 2 3 "
            "--world miniworld-py") in markdown
    assert "budget per run (executed completions) | 640" in markdown


def test_the_csv_has_one_line_per_method_and_metric_with_its_role(rendered: dict[str, ReportFiles]) -> None:
    results = synthetic(*BETTER)
    rows = list(csv.DictReader(rendered["better"].csv.open()))
    assert [(r["method"], r["metric"]) for r in rows] == [(t.method, t.metric) for t in results.table]
    assert [r["role"] for r in rows] == [results.metrics[t.metric] for t in results.table]
    gain = next(r for r in rows if (r["method"], r["metric"]) == ("cosmocore", PRIMARY))
    assert float(gain["mean"]) == pytest.approx(0.38 + 0.1 - START) and gain["n"] == "3" and gain["interval"] == "t"


@pytest.mark.parametrize("name", ["better", "worse"])
def test_the_report_and_the_headline_open_with_the_answer(rendered: dict[str, ReportFiles], name: str) -> None:
    results = synthetic(*(BETTER if name == "better" else WORSE))
    answer = answer_lines(results)
    assert len(answer) == 3  # vs ppo, vs uniform-replay, learned at all: within the five-line budget
    assert answer[0].startswith("CosmoCore vs ppo, held-out pass@1 gain over step 0: ")
    assert answer[1].startswith("CosmoCore vs uniform-replay, held-out pass@1 gain over step 0: ")
    assert answer[2].startswith("Learned at all? ")
    for line in answer[:2]:
        assert "Holm-corrected 97.5% t interval" in line or "Holm-corrected 95% t interval" in line
        assert re.search(rf": {name} \(MDE \d", line), line
    assert headline(results).splitlines()[1:4] == answer
    bullets = rendered[name].markdown.read_text().split("\n\n")[1]
    assert bullets.splitlines() == [f"- {line}" for line in answer]


def test_the_learned_line_gives_every_method_its_gain_and_interval() -> None:
    line = answer_lines(synthetic(*BETTER))[2]
    assert "ppo +0.28 [" in line and "cosmocore +0.38 [" in line  # (0.38 + 0.42 + 0.34) / 3 - 0.1; + 0.1
    assert line.endswith("interval above 0 for ppo, uniform-replay, cosmocore.")


def test_noise_gives_no_resolvable_difference_beside_its_mde(tmp_path: Path) -> None:
    results = synthetic(*UNRESOLVED)
    rows = results.family("headline")
    assert [r.verdict for r in rows] == ["no resolvable difference"] * 2
    for row, line in zip(rows, answer_lines(results), strict=False):
        assert line.endswith(f"no resolvable difference (MDE {row.mde:.2f}).")
    assert not re.search(r"\b(better|worse)\b", "\n".join(answer_lines(results)))


def test_the_verdicts_are_one_compact_table_of_the_headline_family(rendered: dict[str, ReportFiles]) -> None:
    markdown = rendered["better"].markdown.read_text()
    header = "| comparison | difference | interval | adjusted p | MDE | verdict |"
    table = markdown.split(header)[1].split("\n\n")[0].strip().splitlines()[1:]
    assert [line.split(" | ")[0] for line in table] == ["| CosmoCore vs ppo (3 seeds)",
                                                       "| CosmoCore vs uniform-replay (3 seeds)"]
    assert all(line.endswith(" |") and "better (MDE" in line for line in table)
    assert "CosmoCore was better on" not in markdown  # the old per-metric tallies are gone


def test_secondary_comparisons_are_descriptive_and_carry_no_verdict_words(rendered: dict[str, ReportFiles]) -> None:
    results = synthetic(*BETTER)
    secondary = results.family("secondary")
    assert secondary and {r.verdict for r in secondary} == {"not judged"}
    assert {(r.method, r.baseline) for r in secondary} >= {("uniform-replay", "ppo")}
    assert ("uniform-replay", "ppo", PRIMARY) in {(r.method, r.baseline, r.metric) for r in secondary}
    markdown = rendered["better"].markdown.read_text()
    section = markdown.split("### Secondary comparisons (descriptive)")[1].split("\n## ")[0]
    assert not re.search(r"\b(better|worse)\b", section.split("verdict words.")[1])


def test_hallucination_that_is_one_minus_pass_at_1_is_left_out_and_said_so(rendered: dict[str, ReportFiles]) -> None:
    results = synthetic(*BETTER)
    assert "eval/hallucination" not in results.metrics
    assert "it equals 1 - pass@1 in every run" in rendered["better"].markdown.read_text()


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
                   results.metrics, results.primary, results.table, results.paired)
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
