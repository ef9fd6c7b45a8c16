"""Steps over dicts: string-to-int tables (inputs, or the result of counting) and groups of words.

Each entry keeps its implementation (`run`, which computes every expected output) beside its code
template (`code`, which the reference solution is written from); tests/unit/worlds check that the two
agree on every generated task. Where order matters it is the dict's insertion order, and ties are broken
by it (Python's `max`, `sorted` and `dict` are all stable in that order).
"""

from __future__ import annotations

from cosmocore.worlds.pyfuncs.steps import DSI, DSL, INT, LI, LS, STR, Param, Primitive

_THRESHOLD = Param("k", tuple(range(11)))

TABLE_STEPS = (
    Primitive(
        "sorted_keys", "convert", DSI, LS,
        run=lambda d: sorted(d),
        code="sorted($inp)", var="keys",
        says=("list the keys in ascending string order", "take the keys, sorted", "collect the keys in sorted order"),
        names=("sorted_keys", "keys_in_order", "key_list"),
    ),
    Primitive(
        "keys_by_value_desc", "order", DSI, LS,
        run=lambda d: sorted(d, key=lambda key: d[key], reverse=True),
        code="sorted($inp, key=lambda key: $inp[key], reverse=True)", var="ranked",
        says=("list the keys from the highest value to the lowest, ties in insertion order",
              "rank the keys by their values, largest first (equal values keep the dict's order)",
              "order the keys by decreasing value, keeping the dict's order among equal values"),
        names=("ranked_keys", "keys_by_value", "leaders"),
    ),
    Primitive(
        "keys_above", "filter", DSI, LS,
        run=lambda d, k: [key for key, v in d.items() if v > k],
        code="[key for key, v in $inp.items() if v > $k]", var="selected_keys", params=(_THRESHOLD,),
        says=("list the keys whose value is greater than {k}, in insertion order",
              "collect, in the dict's order, the keys with a value above {k}",
              "find the keys mapped to more than {k}, keeping the dict's order"),
        names=("keys_above_{k}", "keys_over_{k}", "names_above_{k}"),
    ),
    Primitive(
        "dict_values", "convert", DSI, LI,
        run=lambda d: list(d.values()),
        code="list($inp.values())", var="values",
        says=("take the values as a list, in insertion order", "list the dict's values in its own order",
              "collect the values, keeping the order of the keys"),
        names=("values", "value_list", "all_values"),
    ),
    Primitive(
        "sum_values", "reduce", DSI, INT,
        run=lambda d: sum(d.values()),
        code="sum($inp.values())", var="value_total",
        says=("add up all the values (0 for an empty dict)", "take the sum of the values", "total the values"),
        names=("value_sum", "sum_values", "total_value"),
    ),
    Primitive(
        "max_value", "reduce", DSI, INT,
        run=lambda d: max(d.values(), default=0),
        code="max($inp.values(), default=0)", var="top_value",
        says=("take the largest value (0 for an empty dict)", "find the maximum of the values, or 0 if there are none",
              "pick the biggest value, using 0 when the dict is empty"),
        names=("max_value", "top_value", "highest_value"),
    ),
    Primitive(
        "count_keys", "count", DSI, INT,
        run=lambda d: len(d),
        code="len($inp)", var="n_keys",
        says=("count the keys", "take the number of entries", "count how many keys there are"),
        names=("key_count", "num_keys", "entry_count"),
    ),
    Primitive(
        "most_common_key", "reduce", DSI, STR,
        run=lambda d: max(d, key=lambda key: d[key], default=""),
        code='max($inp, key=lambda key: $inp[key], default="")', var="top_key",
        says=("find the key with the largest value, the first in insertion order on ties ('' for an empty dict)",
              "take the key whose value is highest (the earliest such key on ties, or '' when there are none)",
              "pick the key mapped to the maximum value, preferring the first on ties; '' for an empty dict"),
        names=("top_key", "most_common_key", "best_key"),
    ),
    Primitive(
        "filter_values_gt", "filter", DSI, DSI,
        run=lambda d, k: {key: v for key, v in d.items() if v > k},
        code="{key: v for key, v in $inp.items() if v > $k}", var="kept", params=(_THRESHOLD,),
        says=("keep only the entries whose value is greater than {k}", "drop every entry with a value of {k} or less",
              "select the items with a value above {k}"),
        names=("entries_above_{k}", "values_over_{k}", "kept_above_{k}"),
    ),
    Primitive(
        "add_k_values", "map", DSI, DSI,
        run=lambda d, k: {key: v + k for key, v in d.items()},
        code="{key: v + $k for key, v in $inp.items()}", var="raised", params=(Param("k", tuple(range(1, 10))),),
        says=("add {k} to every value", "increase each value by {k}, keeping the keys",
              "raise all the values by {k}"),
        names=("raised_by_{k}", "values_plus_{k}", "bonus_{k}"),
    ),
)

GROUP_STEPS = (
    Primitive(
        "group_sizes", "count", DSL, DSI,
        run=lambda g: {key: len(v) for key, v in g.items()},
        code="{key: len(v) for key, v in $inp.items()}", var="group_sizes",
        says=("replace each group by its size", "map every key to the number of words in its group",
              "count the members of each group, keeping the keys"),
        names=("group_sizes", "sizes_by_key", "group_counts"),
    ),
    Primitive(
        "group_keys", "convert", DSL, LS,
        run=lambda g: sorted(g),
        code="sorted($inp)", var="group_keys",
        says=("list the group keys in ascending order", "take the keys of the groups, sorted",
              "collect the groups' keys in sorted order"),
        names=("group_keys", "sorted_initials", "key_letters"),
    ),
    Primitive(
        "largest_group", "reduce", DSL, LS,
        run=lambda g: max(g.values(), key=len, default=[]),
        code="max($inp.values(), key=len, default=[])", var="biggest_group",
        says=("take the largest group's list of words, the first such group on ties (an empty list if none)",
              "pick the group with the most words, the earliest on ties, or [] when there are no groups",
              "find the biggest group (first in insertion order on ties; [] for no groups) and keep its words"),
        names=("largest_group", "biggest_group", "main_group"),
    ),
    Primitive(
        "count_groups", "count", DSL, INT,
        run=lambda g: len(g),
        code="len($inp)", var="n_groups",
        says=("count the groups", "take the number of groups", "count how many different keys there are"),
        names=("group_count", "num_groups", "count_groups"),
    ),
)

PRIMITIVES = TABLE_STEPS + GROUP_STEPS
