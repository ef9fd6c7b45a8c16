"""`miniworld-spark`: generated PySpark pipeline tasks over four related tables (customers, products,
orders, events) drawn per seed, with nulls, duplicates, dangling keys and skew.

Layout, in the order the data flows: `tables` (the seed's data), `relational` (pure-Python operations
with Spark's semantics), `ops` and `ops_summary` (each operation's implementation beside its PySpark code
and phrasings), `compose` (drawing pipelines, rejecting weak ones), `generate` (the world).
Expected outputs always come from `relational`, never from running generated code. Programs are
judged by the sandbox's Spark executor (`cosmocore.tables` compares the result tables).
"""

from cosmocore.worlds.spark.generate import WORLD, generate_world, split_of

__all__ = ["WORLD", "generate_world", "split_of"]
