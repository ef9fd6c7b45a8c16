"""The miniworld-spark input tables: four related tables drawn per seed as plain Python data.

    customers(customer_id bigint, name string, country string, signup_year bigint)   unique customer_id
    products(product_id bigint, category string, price double)                       unique product_id
    orders(order_id bigint, customer_id bigint, product_id bigint, quantity bigint, status string)
    events(event_id bigint, customer_id bigint, product_id bigint, event_type string, day bigint)

The data is deliberately awkward: nullable columns hold nulls (country, category, orders.customer_id,
quantity, status, events.customer_id); some orders name customers and products that do not exist;
a few customers place most orders (skew); orders and events contain exact duplicate rows (the same
record loaded twice), so rows with equal `order_id` (or `event_id`) are always identical. Ids and the
two dimension keys are never null. Limits: 20-60 rows per table, ASCII strings only (so string order is
the same in Python and Spark), prices with two decimals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

Columns = tuple[tuple[str, str], ...]  # (name, Spark simple type name)
Row = tuple[Any, ...]

SCHEMAS: dict[str, Columns] = {
    "customers": (("customer_id", "bigint"), ("name", "string"), ("country", "string"), ("signup_year", "bigint")),
    "products": (("product_id", "bigint"), ("category", "string"), ("price", "double")),
    "orders": (("order_id", "bigint"), ("customer_id", "bigint"), ("product_id", "bigint"), ("quantity", "bigint"),
               ("status", "string")),
    "events": (("event_id", "bigint"), ("customer_id", "bigint"), ("product_id", "bigint"), ("event_type", "string"),
               ("day", "bigint")),
}
KEYS: dict[str, tuple[str, ...]] = {  # rows equal on these columns are identical
    "customers": ("customer_id",), "products": ("product_id",), "orders": ("order_id",), "events": ("event_id",),
}

NAMES = ("Ada", "Ben", "Chen", "Dina", "Eve", "Femi", "Gus", "Hana", "Ivo", "Jon", "Kai", "Lea", "Mo", "Nia",
         "Omar", "Pia", "Raj", "Sara", "Tom", "Uma", "Vic", "Wen", "Yui", "Zoe")
COUNTRIES = ("US", "US", "US", "DE", "DE", "FR", "IN", "BR", "JP")  # skewed towards US
CATEGORIES = ("books", "books", "books", "toys", "toys", "garden", "food", "music")
STATUSES = ("shipped", "shipped", "shipped", "shipped", "pending", "pending", "cancelled", "returned")
QUANTITIES = (1, 1, 1, 2, 2, 3, 4, 5, 8)
EVENT_TYPES = ("view", "view", "view", "click", "click", "cart", "purchase")


@dataclass(frozen=True)
class Table:
    """A plain table: named, typed columns and rows of Python values (None for null)."""

    columns: Columns
    rows: tuple[Row, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def type_of(self, column: str) -> str:
        return dict(self.columns)[column]

    def values(self, column: str) -> list[Any]:
        index = self.names.index(column)
        return [row[index] for row in self.rows]

    def plain(self) -> dict[str, Any]:
        """The form `SparkTests` encodes: {"columns": [[name, type], ...], "rows": [[value, ...], ...]}."""
        return {"columns": [list(c) for c in self.columns], "rows": [list(r) for r in self.rows]}


def _maybe(rng: random.Random, value: Any, null_share: float) -> Any:
    return None if rng.random() < null_share else value


def draw_customers(rng: random.Random) -> Table:
    count = rng.randint(20, 26)
    rows = tuple((i, rng.choice(NAMES), _maybe(rng, rng.choice(COUNTRIES), 0.15), rng.randint(2018, 2024))
                 for i in range(1, count + 1))
    return Table(SCHEMAS["customers"], rows)


def draw_products(rng: random.Random) -> Table:
    count = rng.randint(12, 16)
    rows = tuple((100 + i, _maybe(rng, rng.choice(CATEGORIES), 0.12), rng.randint(199, 9999) / 100)
                 for i in range(1, count + 1))
    return Table(SCHEMAS["products"], rows)


def _skewed_customer(rng: random.Random, customers: int) -> int | None:
    """Mostly the first few customers, sometimes anyone, sometimes a dangling id or null."""
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.17:
        return customers + rng.randint(1, 5)  # no such customer
    if roll < 0.55:
        return rng.randint(1, 4)  # the heavy buyers
    return rng.randint(1, customers)


def _product(rng: random.Random, products: int) -> int:
    return 100 + (products + rng.randint(1, 3) if rng.random() < 0.1 else rng.randint(1, products))


def _with_duplicates(rng: random.Random, rows: list[Row], copies: int) -> tuple[Row, ...]:
    """`rows` plus exact copies of `copies` of them, each inserted somewhere after its original."""
    out = list(rows)
    for row in rng.sample(rows, copies):
        out.insert(rng.randint(out.index(row) + 1, len(out)), row)
    return tuple(out)


def draw_orders(rng: random.Random, customers: int, products: int) -> Table:
    rows: list[Row] = [(1000 + i, _skewed_customer(rng, customers), _product(rng, products),
                        _maybe(rng, rng.choice(QUANTITIES), 0.08), _maybe(rng, rng.choice(STATUSES), 0.07))
                       for i in range(1, rng.randint(32, 40) + 1)]
    return Table(SCHEMAS["orders"], _with_duplicates(rng, rows, rng.randint(3, 5)))


def draw_events(rng: random.Random, customers: int, products: int) -> Table:
    rows: list[Row] = [(i, _skewed_customer(rng, customers), _product(rng, products), rng.choice(EVENT_TYPES),
                        rng.randint(1, 30)) for i in range(1, rng.randint(34, 44) + 1)]
    return Table(SCHEMAS["events"], _with_duplicates(rng, rows, rng.randint(3, 5)))


def draw_tables(seed: int) -> dict[str, Table]:
    """The four tables for `seed` (deterministic)."""
    rng = random.Random(f"miniworld-spark-tables:{seed}")
    customers, products = draw_customers(rng), draw_products(rng)
    count_c, count_p = len(customers.rows), len(products.rows)
    return {"customers": customers, "products": products, "orders": draw_orders(rng, count_c, count_p),
            "events": draw_events(rng, count_c, count_p)}
