"""Plain tables <-> Spark DataFrames, for running miniworld-spark programs (the executor and the spark tests).

`to_frames` makes one DataFrame per input table with its exact declared schema; `from_frame` collects a
result DataFrame into the plain {"columns", "rows"} form `compare_tables` judges. pyspark is imported by
the caller's session only (nothing here imports it at module level). Limits: simple types only
(string, bigint, int, double, boolean); a result with other types is read with its simpleString names and
its values as collected.
"""

from __future__ import annotations

from typing import Any


def to_frames(spark: Any, tables: dict[str, Any]) -> dict[str, Any]:
    """{name: DataFrame} for codec-decoded {name: {"columns": [[c, t], ...], "rows": [...]}}."""
    frames = {}
    for name, table in tables.items():
        schema = ", ".join(f"{column} {kind}" for column, kind in table["columns"])
        frames[name] = spark.createDataFrame([tuple(row) for row in table["rows"]], schema=schema)
    return frames


def from_frame(frame: Any) -> dict[str, Any]:
    """The plain form of a DataFrame: its column names and simple type names, and its collected rows."""
    columns = [[field.name, field.dataType.simpleString()] for field in frame.schema.fields]
    return {"columns": columns, "rows": [list(row) for row in frame.collect()]}


def namespace(spark: Any, tables: dict[str, Any]) -> dict[str, Any]:
    """The globals a program runs with: the input DataFrames by name, `spark`, `F` and `Window`."""
    from pyspark.sql import functions
    from pyspark.sql.window import Window

    return {"spark": spark, "F": functions, "Window": Window, **to_frames(spark, tables)}
