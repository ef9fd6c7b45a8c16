"""CosmoCore inside the trainers people already use: adapters to the sandbox and the Dream Queue.

    rows.py      dataset row / task id -> `Problem` (HumanEval, MBPP, Mini-World, a JSON-encoded problem)
    judging.py   `Judge`: one long-lived, thread-safe sandbox; (problem, completion) -> `Verdict`
    replay.py    `DreamPrompts`: which prompts were "cringe" (Dream Queue rule), and the 80/20 replay draw
    trl.py       TRL `GRPOTrainer`: `ExecutionReward` (a `reward_funcs` entry) and the Dream-Queue prompt sampler
    verl.py      verl: `compute_score` (custom_reward_function) and the Dream-Queue curriculum sampler

The trainers are optional extras (`pip install cosmocore[trl]`, `cosmocore[verl]`), imported only inside
the functions that need them, so `import cosmocore.integrations.judging` never loads TRL or verl.
How to use them, with what was run and seen: docs/integrations.md.
"""
