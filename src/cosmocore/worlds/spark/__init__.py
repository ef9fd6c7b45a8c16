"""`miniworld-spark`: generated PySpark pipeline tasks over four related tables (customers, products,
orders, events) drawn per seed, with nulls, duplicates, dangling keys and skew.

Layout, in the order the data flows: `tables` (the seed's data), `relational` (pure-Python operations
with Spark's semantics), `ops` and `ops_summary` (each operation's implementation beside its PySpark code
and phrasings), `compose` (drawing pipelines, rejecting weak ones), `generate` (the world), `compare`
(judging a result table), `frames` (plain tables <-> Spark DataFrames, for the future executor; imports
pyspark lazily). Expected outputs always come from `relational`, never from running generated code.
Not yet registered in `cosmocore.worlds`: judging needs the Spark executor, which is still to come.
"""

from cosmocore.worlds.spark.compare import compare_tables
from cosmocore.worlds.spark.generate import WORLD, generate_world, split_of

__all__ = ["WORLD", "compare_tables", "generate_world", "split_of"]
