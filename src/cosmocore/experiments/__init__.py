"""Experiments: grids of methods x seeds at equal environment budget, their aggregation, statistics and reports.

    runner.py      grids (quick, paper, or a YAML file) -> one training run per (method, seed), resumable
    aggregate.py   run directories -> `Results` (per-run curves and final metrics, table, paired differences)
    selfcorrect.py the paper's Algorithm 1 / Mini-World embarrassment injection: cycles to zero error
    stats.py       mean, std, bootstrap intervals, paired differences (pure)
    results.py     the `results.json` schema, saved atomically and loaded with validation
    report.py      report.md, report.html, results.csv and the terminal headline; plots.py: the PNGs
    paper.py       the paper's own numbers, shown only in a column labelled as the paper's
"""
