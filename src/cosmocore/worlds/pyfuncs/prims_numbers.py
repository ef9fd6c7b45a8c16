"""Steps over integers and lists of integers: filters, maps, orderings, selections, reductions, tests.

Each entry keeps its implementation (`run`, which computes every expected output) beside its code
template (`code`, which the reference solution is written from); tests/unit/worlds check that the two
agree on every generated task. Every step is total on its input type: empty lists give 0, 1, [] or False
as its phrasings state, never an exception.
"""

from __future__ import annotations

from cosmocore.worlds.pyfuncs.steps import BOOL, DII, INT, LI, STR, Param, Primitive


def _running_sums(xs: list[int]) -> list[int]:
    sums, acc = [], 0
    for x in xs:
        acc += x
        sums.append(acc)
    return sums


def _product(xs: list[int]) -> int:
    result = 1
    for x in xs:
        result *= x
    return result


def _tally(xs: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    return counts


def _is_prime(n: int) -> bool:
    return n > 1 and all(n % d != 0 for d in range(2, int(n**0.5) + 1))


_K = Param("k", tuple(range(-5, 11)))
_SHIFT = Param("k", tuple(range(1, 10)))
_FACTOR = Param("k", (2, 3, 4, 5))
_DIVISOR = Param("k", (3, 4, 5, 6, 7))
_COUNT = Param("k", (1, 2, 3, 4))
_SEP = Param("sep", (", ", "-", " ", "|", ""))

FILTERS = (
    Primitive(
        "filter_even", "filter", LI, LI,
        run=lambda xs: [x for x in xs if x % 2 == 0],
        code="[x for x in $inp if x % 2 == 0]", var="evens",
        says=("keep only the even numbers", "drop every odd number", "select the numbers divisible by 2"),
        names=("evens", "even_values", "only_evens"),
    ),
    Primitive(
        "filter_odd", "filter", LI, LI,
        run=lambda xs: [x for x in xs if x % 2 != 0],
        code="[x for x in $inp if x % 2 != 0]", var="odds",
        says=("keep only the odd numbers", "drop every even number", "select the numbers not divisible by 2"),
        names=("odds", "odd_values", "only_odds"),
    ),
    Primitive(
        "filter_positive", "filter", LI, LI,
        run=lambda xs: [x for x in xs if x > 0],
        code="[x for x in $inp if x > 0]", var="positives",
        says=("keep only the positive numbers (greater than 0)", "drop every number that is zero or negative",
              "select the numbers above zero"),
        names=("positives", "positive_values", "above_zero"),
    ),
    Primitive(
        "filter_negative", "filter", LI, LI,
        run=lambda xs: [x for x in xs if x < 0],
        code="[x for x in $inp if x < 0]", var="negatives",
        says=("keep only the negative numbers", "drop every number that is zero or positive",
              "select the numbers below zero"),
        names=("negatives", "negative_values", "below_zero"),
    ),
    Primitive(
        "filter_nonzero", "filter", LI, LI,
        run=lambda xs: [x for x in xs if x != 0],
        code="[x for x in $inp if x != 0]", var="nonzero",
        says=("remove every zero", "keep only the non-zero numbers", "drop the numbers equal to 0"),
        names=("nonzero", "without_zeros", "no_zeros"),
    ),
    Primitive(
        "filter_gt", "filter", LI, LI,
        run=lambda xs, k: [x for x in xs if x > k],
        code="[x for x in $inp if x > $k]", var="above", params=(_K,),
        says=("keep only the numbers greater than {k}", "drop every number that is {k} or less",
              "select the values strictly above {k}"),
        names=("above_{k}", "greater_than_{k}", "over_{k}"),
    ),
    Primitive(
        "filter_lt", "filter", LI, LI,
        run=lambda xs, k: [x for x in xs if x < k],
        code="[x for x in $inp if x < $k]", var="below", params=(_K,),
        says=("keep only the numbers less than {k}", "drop every number that is {k} or more",
              "select the values strictly below {k}"),
        names=("below_{k}", "less_than_{k}", "under_{k}"),
    ),
    Primitive(
        "filter_divisible", "filter", LI, LI,
        run=lambda xs, k: [x for x in xs if x % k == 0],
        code="[x for x in $inp if x % $k == 0]", var="multiples", params=(_DIVISOR,),
        says=("keep only the multiples of {k}", "keep the numbers divisible by {k}",
              "drop every number that is not a multiple of {k}"),
        names=("multiples_of_{k}", "divisible_by_{k}", "by_{k}"),
    ),
)

MAPS = (
    Primitive(
        "square", "map", LI, LI,
        run=lambda xs: [x * x for x in xs],
        code="[x * x for x in $inp]", var="squares",
        says=("square each number", "replace every number by its square", "multiply each number by itself"),
        names=("squares", "squared", "squared_values"),
    ),
    Primitive(
        "add_k", "map", LI, LI,
        run=lambda xs, k: [x + k for x in xs],
        code="[x + $k for x in $inp]", var="shifted", params=(_SHIFT,),
        says=("add {k} to each number", "increase every number by {k}", "shift each value up by {k}"),
        names=("plus_{k}", "shifted_up_{k}", "increased_by_{k}"),
    ),
    Primitive(
        "subtract_k", "map", LI, LI,
        run=lambda xs, k: [x - k for x in xs],
        code="[x - $k for x in $inp]", var="lowered", params=(_SHIFT,),
        says=("subtract {k} from each number", "decrease every number by {k}", "shift each value down by {k}"),
        names=("minus_{k}", "shifted_down_{k}", "decreased_by_{k}"),
    ),
    Primitive(
        "multiply_k", "map", LI, LI,
        run=lambda xs, k: [x * k for x in xs],
        code="[x * $k for x in $inp]", var="scaled", params=(_FACTOR,),
        says=("multiply each number by {k}", "scale every number by a factor of {k}",
              "replace each value by {k} times itself"),
        names=("times_{k}", "scaled_by_{k}", "multiplied_by_{k}"),
    ),
    Primitive(
        "negate", "map", LI, LI,
        run=lambda xs: [-x for x in xs],
        code="[-x for x in $inp]", var="negated",
        says=("negate each number", "flip the sign of every number", "replace each value by its negative"),
        names=("negated", "flipped_signs", "sign_flipped"),
    ),
    Primitive(
        "absolute", "map", LI, LI,
        run=lambda xs: [abs(x) for x in xs],
        code="[abs(x) for x in $inp]", var="magnitudes",
        says=("take the absolute value of each number", "replace every number by its absolute value",
              "drop the sign of each value"),
        names=("absolutes", "abs_values", "magnitudes"),
    ),
    Primitive(
        "cap_at_k", "map", LI, LI,
        run=lambda xs, k: [min(x, k) for x in xs],
        code="[min(x, $k) for x in $inp]", var="capped", params=(Param("k", tuple(range(11))),),
        says=("replace every number above {k} by {k}", "cap each number at {k}",
              "limit every value to at most {k}"),
        names=("capped_at_{k}", "at_most_{k}", "clipped_to_{k}"),
    ),
    Primitive(
        "running_sum", "map", LI, LI,
        run=_running_sums,
        code="$out = []\nacc = 0\nfor x in $inp:\n    acc += x\n    $out.append(acc)", var="running",
        says=("replace each number by the sum of itself and all the numbers before it",
              "compute the running totals (prefix sums)", "turn the numbers into cumulative sums"),
        names=("running_sums", "prefix_sums", "cumulative"),
    ),
    Primitive(
        "differences", "map", LI, LI,
        run=lambda xs: [b - a for a, b in zip(xs, xs[1:], strict=False)],  # noqa: RUF007 (as the template)
        code="[b - a for a, b in zip($inp, $inp[1:])]", var="deltas",
        says=("take the differences between consecutive numbers (each number minus the one before it)",
              "replace the list by the gaps between neighbours, later minus earlier, one fewer than before",
              "compute each change from one number to the next (next minus current)"),
        names=("differences", "gaps", "deltas"),
    ),
)

ORDERS = (
    Primitive(
        "sort_asc", "order", LI, LI,
        run=lambda xs: sorted(xs),
        code="sorted($inp)", var="ordered",
        says=("sort the numbers in ascending order", "order the values from smallest to largest",
              "arrange the numbers in increasing order"),
        names=("sorted", "ascending", "in_order"),
    ),
    Primitive(
        "sort_desc", "order", LI, LI,
        run=lambda xs: sorted(xs, reverse=True),
        code="sorted($inp, reverse=True)", var="descending",
        says=("sort the numbers in descending order", "order the values from largest to smallest",
              "arrange the numbers in decreasing order"),
        names=("descending", "sorted_desc", "largest_first"),
    ),
    Primitive(
        "sort_by_abs", "order", LI, LI,
        run=lambda xs: sorted(xs, key=abs),
        code="sorted($inp, key=abs)", var="by_size",
        says=("sort the numbers by absolute value, keeping equal ones in their original order",
              "order the values by their distance from zero (ties keep their original order)",
              "arrange the numbers from closest to zero to farthest, ties in original order"),
        names=("by_magnitude", "sorted_by_abs", "closest_to_zero_first"),
    ),
    Primitive(
        "reverse_list", "order", LI, LI,
        run=lambda xs: xs[::-1],
        code="$inp[::-1]", var="backwards",
        says=("reverse the order of the numbers", "put the values in reverse order", "flip the list back to front"),
        names=("reversed", "backwards", "flipped"),
    ),
    Primitive(
        "dedupe", "select", LI, LI,
        run=lambda xs: list(dict.fromkeys(xs)),
        code="list(dict.fromkeys($inp))", var="unique",
        says=("remove duplicates, keeping the first occurrence of each number in order",
              "drop repeated values, keeping their first appearances in the original order",
              "keep each distinct number once, in order of first appearance"),
        names=("unique", "deduped", "distinct"),
    ),
    Primitive(
        "duplicates", "select", LI, LI,
        run=lambda xs: [x for x in dict.fromkeys(xs) if xs.count(x) > 1],
        code="[x for x in dict.fromkeys($inp) if $inp.count(x) > 1]", var="repeated",
        says=("keep each number that occurs more than once, listed once in order of first appearance",
              "find the repeated values (each listed once, in first-appearance order)",
              "list the numbers that appear at least twice, without repeats, in the order they first occur"),
        names=("duplicates", "repeated", "repeats"),
    ),
    Primitive(
        "take_first_k", "select", LI, LI,
        run=lambda xs, k: xs[:k],
        code="$inp[:$k]", var="head", params=(_COUNT,),
        says=("keep only the first {k} numbers (all of them if there are fewer)", "take the first {k} values",
              "cut the list down to its first {k} elements"),
        names=("first_{k}", "head_{k}", "leading_{k}"),
    ),
    Primitive(
        "take_last_k", "select", LI, LI,
        run=lambda xs, k: xs[-k:],
        code="$inp[-$k:]", var="tail", params=(_COUNT,),
        says=("keep only the last {k} numbers (all of them if there are fewer)", "take the final {k} values",
              "cut the list down to its last {k} elements"),
        names=("last_{k}", "tail_{k}", "trailing_{k}"),
    ),
    Primitive(
        "drop_first_k", "select", LI, LI,
        run=lambda xs, k: xs[k:],
        code="$inp[$k:]", var="rest", params=(_COUNT,),
        says=("drop the first {k} numbers", "skip the first {k} values",
              "remove the first {k} elements (all of them if there are fewer)"),
        names=("after_{k}", "skip_{k}", "rest_after_{k}"),
    ),
)

REDUCTIONS = (
    Primitive(
        "sum", "reduce", LI, INT,
        run=lambda xs: sum(xs),
        code="sum($inp)", var="total",
        says=("add them all up (0 for no numbers)", "take their sum", "compute the total of the numbers"),
        names=("sum", "total", "sum_of"),
    ),
    Primitive(
        "product", "reduce", LI, INT,
        run=_product,
        code="$out = 1\nfor x in $inp:\n    $out *= x", var="product",
        says=("multiply them all together (1 for an empty list)", "take their product, which is 1 when there are none",
              "compute the product of the numbers (the empty product is 1)"),
        names=("product", "product_of", "multiplied"),
    ),
    Primitive(
        "max_or_zero", "reduce", LI, INT,
        run=lambda xs: max(xs, default=0),
        code="max($inp, default=0)", var="largest",
        says=("take the largest number (0 if there are none)", "find the maximum, or 0 when the list is empty",
              "pick the biggest value, using 0 for an empty list"),
        names=("max", "largest", "maximum"),
    ),
    Primitive(
        "min_or_zero", "reduce", LI, INT,
        run=lambda xs: min(xs, default=0),
        code="min($inp, default=0)", var="smallest",
        says=("take the smallest number (0 if there are none)", "find the minimum, or 0 when the list is empty",
              "pick the lowest value, using 0 for an empty list"),
        names=("min", "smallest", "minimum"),
    ),
    Primitive(
        "count", "reduce", LI, INT,
        run=lambda xs: len(xs),
        code="len($inp)", var="count",
        says=("count how many numbers there are", "take the number of elements", "count them"),
        names=("count", "how_many", "number_of"),
    ),
    Primitive(
        "count_distinct", "reduce", LI, INT,
        run=lambda xs: len(set(xs)),
        code="len(set($inp))", var="n_distinct",
        says=("count the distinct values", "count how many different numbers occur",
              "find the number of unique values"),
        names=("distinct_count", "num_unique", "unique_count"),
    ),
    Primitive(
        "max_frequency", "count", LI, INT,
        run=lambda xs: xs.count(max(xs)) if xs else 0,
        code="$inp.count(max($inp)) if $inp else 0", var="max_count",
        says=("count how many times the largest number occurs (0 for an empty list)",
              "find the frequency of the maximum, or 0 if there are no numbers",
              "count the occurrences of the maximum value (0 when empty)"),
        names=("max_frequency", "max_count", "times_max_occurs"),
    ),
    Primitive(
        "mode", "count", LI, INT,
        run=lambda xs: min(set(xs), key=lambda v: (-xs.count(v), v)) if xs else 0,
        code="min(set($inp), key=lambda v: (-$inp.count(v), v)) if $inp else 0", var="mode",
        says=("find the most frequent number, the smallest one on ties (0 for an empty list)",
              "take the value that occurs most often, preferring the smallest on ties, or 0 if there are none",
              "pick the number that appears most often (the smallest wins a tie; 0 when empty)"),
        names=("mode", "most_frequent", "most_common"),
    ),
    Primitive(
        "spread", "reduce", LI, INT,
        run=lambda xs: max(xs) - min(xs) if xs else 0,
        code="max($inp) - min($inp) if $inp else 0", var="spread",
        says=("compute the largest number minus the smallest one (0 if there are none)",
              "take the range: maximum minus minimum, or 0 for an empty list",
              "find how far apart the biggest and the smallest values are (0 when empty)"),
        names=("spread", "value_range", "max_minus_min"),
    ),
)

CONVERSIONS = (
    Primitive(
        "join_numbers", "convert", LI, STR,
        run=lambda xs, sep: sep.join(str(x) for x in xs),
        code="$sep.join(str(x) for x in $inp)", var="joined", params=(_SEP,),
        says=("write the numbers as text joined by {sep}", "turn the numbers into one string, separated by {sep}",
              "join their decimal forms with {sep} between them"),
        names=("joined", "as_text", "to_string"),
    ),
    Primitive(
        "is_sorted", "test", LI, BOOL,
        run=lambda xs: all(a <= b for a, b in zip(xs, xs[1:], strict=False)),  # noqa: RUF007 (as the template)
        code="all(a <= b for a, b in zip($inp, $inp[1:]))", var="in_order",
        says=("tell whether the numbers are in non-decreasing order (True for an empty list)",
              "check that every number is at least the one before it (True when there are none)",
              "decide whether the list is sorted ascending, ties allowed (an empty list is sorted)"),
        names=("is_sorted", "check_sorted", "is_nondecreasing"),
    ),
    Primitive(
        "has_negative", "test", LI, BOOL,
        run=lambda xs: any(x < 0 for x in xs),
        code="any(x < 0 for x in $inp)", var="has_negative",
        says=("check whether any number is negative", "tell whether at least one value is below zero",
              "decide whether the list contains a negative number"),
        names=("has_negative", "any_negative", "contains_negative"),
    ),
    Primitive(
        "tally", "count", LI, DII,
        run=_tally,
        code="$out = {}\nfor x in $inp:\n    $out[x] = $out.get(x, 0) + 1", var="tally",
        says=("count how often each number occurs, as a dict from number to count",
              "build a dict mapping each value to its number of occurrences",
              "tally the numbers into a dict of value -> count"),
        names=("tally", "counts", "frequencies"),
    ),
)

SCALARS = (
    Primitive(
        "digit_sum", "reduce", INT, INT,
        run=lambda n: sum(int(d) for d in str(abs(n))),
        code="sum(int(d) for d in str(abs($inp)))", var="digit_sum",
        says=("add up the decimal digits of the number (ignoring its sign)", "take the sum of its digits, sign ignored",
              "compute the digit sum of its absolute value"),
        names=("digit_sum", "sum_of_digits", "digits_total"),
    ),
    Primitive(
        "num_digits", "count", INT, INT,
        run=lambda n: len(str(abs(n))),
        code="len(str(abs($inp)))", var="n_digits",
        says=("count the decimal digits of the number, ignoring the sign (0 has one digit)",
              "find how many digits its absolute value has", "take the length of its decimal form, without any sign"),
        names=("num_digits", "digit_count", "length_in_digits"),
    ),
    Primitive(
        "square_int", "map", INT, INT,
        run=lambda n: n * n,
        code="$inp * $inp", var="squared",
        says=("square the number", "multiply the number by itself", "raise it to the power 2"),
        names=("squared", "square", "square_of"),
    ),
    Primitive(
        "add_k_int", "map", INT, INT,
        run=lambda n, k: n + k,
        code="$inp + $k", var="bumped", params=(_SHIFT,),
        says=("add {k} to the number", "increase it by {k}", "shift the number up by {k}"),
        names=("plus_{k}", "add_{k}", "increased_by_{k}"),
    ),
    Primitive(
        "abs_int", "map", INT, INT,
        run=lambda n: abs(n),
        code="abs($inp)", var="magnitude",
        says=("take the absolute value of the number", "drop its sign", "replace it by its distance from zero"),
        names=("absolute", "abs_value", "magnitude"),
    ),
    Primitive(
        "mod_k", "map", INT, INT,
        run=lambda n, k: n % k,
        code="$inp % $k", var="remainder", params=(Param("k", tuple(range(2, 10))),),
        says=("take the remainder of the number divided by {k}, as Python's % gives it (never negative here)",
              "reduce the number modulo {k} (the result lies between 0 and {k} - 1)",
              "compute the number mod {k}, Python style (non-negative for a positive divisor)"),
        names=("mod_{k}", "remainder_{k}", "modulo_{k}"),
    ),
    Primitive(
        "digits_of", "convert", INT, LI,
        run=lambda n: [int(d) for d in str(abs(n))],
        code="[int(d) for d in str(abs($inp))]", var="digits",
        says=("list the decimal digits of the number, most significant first, ignoring the sign",
              "split its absolute value into its digits, left to right",
              "turn the number into the list of its digits (sign dropped)"),
        names=("digits", "digit_list", "digits_of"),
    ),
    Primitive(
        "divisors", "convert", INT, LI,
        run=lambda n: [d for d in range(1, abs(n) + 1) if n % d == 0],
        code="[d for d in range(1, abs($inp) + 1) if $inp % d == 0]", var="divisors", limit=10_000,
        says=("list the positive divisors of the number in increasing order (none for 0)",
              "find every positive integer that divides it, smallest first (an empty list for 0)",
              "collect the divisors from 1 up to its absolute value, in order (0 has none)"),
        names=("divisors", "factors", "divisors_of"),
    ),
    Primitive(
        "multiples_k", "convert", INT, LI,
        run=lambda n, k: [n * i for i in range(1, k + 1)],
        code="[$inp * i for i in range(1, $k + 1)]", var="multiples", params=(Param("k", (3, 4, 5, 6)),),
        says=("list the first {k} multiples of the number (it times 1, 2, ..., {k})",
              "build the list of the number times each of 1 to {k}",
              "make its times table from 1 to {k}, as a list"),
        names=("first_{k}_multiples", "multiples_{k}", "times_table_{k}"),
    ),
    Primitive(
        "to_binary", "convert", INT, STR,
        run=lambda n: format(n, "b"),
        code='format($inp, "b")', var="bits",
        says=("write the number in binary, with a leading '-' if it is negative",
              "convert it to a base-2 string (no '0b' prefix, '-' for negatives)",
              "give its binary digits as a string, prefixed by '-' when negative"),
        names=("binary", "to_binary", "base2"),
    ),
    Primitive(
        "is_prime", "test", INT, BOOL,
        run=_is_prime,
        code="$inp > 1 and all($inp % d != 0 for d in range(2, int($inp ** 0.5) + 1))", var="prime",
        limit=10**7,
        says=("tell whether the number is prime", "check that it is a prime number (greater than 1, no other divisors)",
              "decide whether it is prime (numbers below 2 are not)"),
        names=("is_prime", "check_prime", "prime_test"),
    ),
    Primitive(
        "is_even_int", "test", INT, BOOL,
        run=lambda n: n % 2 == 0,
        code="$inp % 2 == 0", var="even",
        says=("tell whether the number is even", "check that it is divisible by 2", "decide whether it is even"),
        names=("is_even", "even_check", "check_even"),
    ),
)

PRIMITIVES = FILTERS + MAPS + ORDERS + REDUCTIONS + CONVERSIONS + SCALARS
