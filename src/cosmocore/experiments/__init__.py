"""Experiments: grids of methods x seeds at equal environment budget, their aggregation, statistics and reports.

    runner.py      grids (quick, paper, or a YAML file) -> one training run per (method, seed), resumable
    aggregate.py   run directories -> `Results` (declared metrics, per-run curves, table, paired comparisons)
    selfcorrect.py the paper's Algorithm 1 / Mini-World embarrassment injection: cycles to zero error
    stats.py       t / bootstrap-t intervals, paired t-tests, Holm, MDE, verdicts (pure)
    results.py     the `results.json` schema, saved atomically and loaded with validation
    report.py      report.md, report.html, results.csv and the terminal headline; plots.py: the PNGs
    paper.py       the paper's own numbers, shown only in a column labelled as the paper's
"""
