"""Steps over strings and lists of strings: filters, maps, orderings, joins, counts, groupings, string edits.

Each entry keeps its implementation (`run`, which computes every expected output) beside its code
template (`code`, which the reference solution is written from); tests/unit/worlds check that the two
agree on every generated task. Comparisons are exact (case-sensitive, Unicode code points) unless a
phrasing says otherwise, and every phrasing states what an empty input gives where that is not obvious.
"""

from __future__ import annotations

from cosmocore.worlds.pyfuncs.steps import BOOL, DSI, DSL, INT, LI, LS, STR, Param, Primitive


def _count_items(items: list[str] | str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _group_by_first(words: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for w in words:
        if w:
            groups.setdefault(w[0], []).append(w)
    return groups


_VOWELS = "aeiouAEIOU"
_LETTER = Param("c", tuple("abcmpst"))
_COUNT = Param("k", (1, 2, 3))

WORD_FILTERS = (
    Primitive(
        "filter_starts_with", "filter", LS, LS,
        run=lambda ws, c: [w for w in ws if w.startswith(c)],
        code="[w for w in $inp if w.startswith($c)]", var="chosen", params=(_LETTER,),
        says=("keep only the words that start with {c} (case-sensitive)",
              "select the words beginning with the lowercase letter {c}",
              "drop every word that does not begin with {c} (exact case)"),
        names=("starting_with_{c}", "{c}_words", "words_with_initial_{c}"),
    ),
    Primitive(
        "filter_longer", "filter", LS, LS,
        run=lambda ws, k: [w for w in ws if len(w) > k],
        code="[w for w in $inp if len(w) > $k]", var="long_words", params=(Param("k", (2, 3, 4, 5)),),
        says=("keep only the words longer than {k} characters", "drop every word with {k} characters or fewer",
              "select the words whose length exceeds {k}"),
        names=("longer_than_{k}", "long_words_{k}", "over_{k}_chars"),
    ),
    Primitive(
        "filter_shorter", "filter", LS, LS,
        run=lambda ws, k: [w for w in ws if len(w) < k],
        code="[w for w in $inp if len(w) < $k]", var="short_words", params=(Param("k", (3, 4, 5, 6)),),
        says=("keep only the words shorter than {k} characters", "drop every word with {k} characters or more",
              "select the words whose length is below {k}"),
        names=("shorter_than_{k}", "short_words_{k}", "under_{k}_chars"),
    ),
    Primitive(
        "filter_contains", "filter", LS, LS,
        run=lambda ws, c: [w for w in ws if c in w],
        code="[w for w in $inp if $c in w]", var="matches", params=(Param("c", tuple("aeiornt")),),
        says=("keep only the words that contain {c}", "select the words in which {c} appears",
              "drop every word without a {c} in it"),
        names=("containing_{c}", "with_{c}", "having_{c}"),
    ),
    Primitive(
        "filter_alpha", "filter", LS, LS,
        run=lambda ws: [w for w in ws if w.isalpha()],
        code="[w for w in $inp if w.isalpha()]", var="alpha_words",
        says=("keep only the words made entirely of letters (no digits, spaces or empty words)",
              "drop every word that is empty or has a character that is not a letter",
              "select the purely alphabetic words (those for which str.isalpha is true)"),
        names=("alphabetic", "letters_only", "alpha_words"),
    ),
    Primitive(
        "filter_capitalized", "filter", LS, LS,
        run=lambda ws: [w for w in ws if w[:1].isupper()],
        code="[w for w in $inp if w[:1].isupper()]", var="capitalized",
        says=("keep only the words whose first character is an upper-case letter",
              "select the words that begin with a capital letter",
              "drop every word that does not start with an upper-case letter"),
        names=("capitalized", "upper_initial", "capital_words"),
    ),
    Primitive(
        "filter_nonempty", "filter", LS, LS,
        run=lambda ws: [w for w in ws if w],
        code="[w for w in $inp if w]", var="nonempty",
        says=("drop the empty strings", "remove every empty word", "keep only the non-empty words"),
        names=("nonempty", "without_blanks", "no_empty"),
    ),
)

WORD_MAPS = (
    Primitive(
        "upper_each", "map", LS, LS,
        run=lambda ws: [w.upper() for w in ws],
        code="[w.upper() for w in $inp]", var="upper",
        says=("convert every word to upper case", "make each word all capitals", "upper-case all the words"),
        names=("upper", "shouted", "uppercased"),
    ),
    Primitive(
        "lower_each", "map", LS, LS,
        run=lambda ws: [w.lower() for w in ws],
        code="[w.lower() for w in $inp]", var="lower",
        says=("convert every word to lower case", "make each word all small letters", "lower-case all the words"),
        names=("lower", "lowered", "lowercased"),
    ),
    Primitive(
        "reverse_each", "map", LS, LS,
        run=lambda ws: [w[::-1] for w in ws],
        code="[w[::-1] for w in $inp]", var="mirrored",
        says=("reverse each word", "spell every word backwards", "flip the characters of each word"),
        names=("mirrored", "reversed_words", "backwards_words"),
    ),
    Primitive(
        "strip_each", "map", LS, LS,
        run=lambda ws: [w.strip() for w in ws],
        code="[w.strip() for w in $inp]", var="trimmed",
        says=("strip leading and trailing whitespace from every word", "trim the spaces around each word",
              "remove the surrounding whitespace of each word"),
        names=("trimmed", "stripped", "clean_words"),
    ),
    Primitive(
        "capitalize_each", "map", LS, LS,
        run=lambda ws: [w.capitalize() for w in ws],
        code="[w.capitalize() for w in $inp]", var="titled",
        says=("capitalize each word: first character upper case, the rest lower case",
              "rewrite every word with an upper-case first letter and a lower-case rest (as str.capitalize does)",
              "turn each word into its capitalized form (first letter upper, all others lower)"),
        names=("capitalized_words", "titled", "capitalized_each"),
    ),
    Primitive(
        "add_suffix", "map", LS, LS,
        run=lambda ws, s: [w + s for w in ws],
        code="[w + $s for w in $inp]", var="suffixed", params=(Param("s", ("s", "!", "_x", "ed")),),
        says=("append {s} to every word", "add the suffix {s} at the end of each word", "put {s} after each word"),
        names=("suffixed", "with_suffix", "plus_suffix"),
    ),
)

WORD_ORDERS = (
    Primitive(
        "sort_words", "order", LS, LS,
        run=lambda ws: sorted(ws),
        code="sorted($inp)", var="ordered_words",
        says=("sort the words in ascending order by plain string comparison (upper case before lower case)",
              "order the words with Python's default string ordering (by code point)",
              "arrange the words in increasing string order, as sorted() compares them"),
        names=("sorted_words", "alphabetical", "in_alpha_order"),
    ),
    Primitive(
        "sort_words_desc", "order", LS, LS,
        run=lambda ws: sorted(ws, reverse=True),
        code="sorted($inp, reverse=True)", var="reverse_sorted",
        says=("sort the words in descending order by plain string comparison",
              "order the words from greatest to least with Python's default string ordering",
              "arrange the words in decreasing string order (by code point)"),
        names=("words_desc", "reverse_alphabetical", "sorted_words_desc"),
    ),
    Primitive(
        "sort_by_length", "order", LS, LS,
        run=lambda ws: sorted(ws, key=len),
        code="sorted($inp, key=len)", var="by_length",
        says=("sort the words by length, shortest first, keeping ties in their original order",
              "order the words from shortest to longest (equal lengths keep their order)",
              "arrange the words by increasing length, ties in original order"),
        names=("by_length", "shortest_first", "sorted_by_length"),
    ),
    Primitive(
        "sort_by_length_desc", "order", LS, LS,
        run=lambda ws: sorted(ws, key=len, reverse=True),
        code="sorted($inp, key=len, reverse=True)", var="longest_first",
        says=("sort the words by length, longest first, keeping ties in their original order",
              "order the words from longest to shortest (equal lengths keep their order)",
              "arrange the words by decreasing length, ties in original order"),
        names=("longest_first", "by_length_desc", "sorted_long_to_short"),
    ),
    Primitive(
        "reverse_words", "order", LS, LS,
        run=lambda ws: ws[::-1],
        code="$inp[::-1]", var="reversed_list",
        says=("reverse the order of the words", "put the words in reverse order",
              "flip the list of words back to front"),
        names=("words_reversed", "backwards_list", "reverse_order"),
    ),
    Primitive(
        "dedupe_words", "select", LS, LS,
        run=lambda ws: list(dict.fromkeys(ws)),
        code="list(dict.fromkeys($inp))", var="unique_words",
        says=("remove repeated words, keeping the first occurrence of each in order",
              "keep each distinct word once, in order of first appearance (exact comparison)",
              "drop duplicate words but keep the original order of first appearances"),
        names=("unique_words", "deduped_words", "distinct_words"),
    ),
    Primitive(
        "first_k_words", "select", LS, LS,
        run=lambda ws, k: ws[:k],
        code="$inp[:$k]", var="first_words", params=(_COUNT,),
        says=("keep only the first {k} words (all of them if there are fewer)", "take the first {k} words",
              "cut the list down to its first {k} words"),
        names=("first_{k}_words", "head_{k}_words", "leading_{k}_words"),
    ),
    Primitive(
        "last_k_words", "select", LS, LS,
        run=lambda ws, k: ws[-k:],
        code="$inp[-$k:]", var="last_words", params=(_COUNT,),
        says=("keep only the last {k} words (all of them if there are fewer)", "take the final {k} words",
              "cut the list down to its last {k} words"),
        names=("last_{k}_words", "tail_{k}_words", "trailing_{k}_words"),
    ),
)

WORD_REDUCTIONS = (
    Primitive(
        "word_lengths", "map", LS, LI,
        run=lambda ws: [len(w) for w in ws],
        code="[len(w) for w in $inp]", var="lengths",
        says=("replace each word by its length", "take the number of characters of every word",
              "map every word to its length"),
        names=("lengths", "word_lengths", "sizes"),
    ),
    Primitive(
        "count_words", "reduce", LS, INT,
        run=lambda ws: len(ws),
        code="len($inp)", var="n_words",
        says=("count the words", "take how many words there are", "count the items of the list"),
        names=("word_count", "count_words", "num_words"),
    ),
    Primitive(
        "total_chars", "reduce", LS, INT,
        run=lambda ws: sum(len(w) for w in ws),
        code="sum(len(w) for w in $inp)", var="n_chars",
        says=("add up the lengths of all the words", "count the characters over all the words",
              "compute the total number of characters in the words"),
        names=("total_chars", "char_total", "total_length"),
    ),
    Primitive(
        "join_words", "reduce", LS, STR,
        run=lambda ws, sep: sep.join(ws),
        code="$sep.join($inp)", var="sentence", params=(Param("sep", (" ", ", ", "-", "", "/")),),
        says=("join the words with {sep} between them", "glue the words together using {sep} as separator",
              "concatenate the words, separated by {sep}"),
        names=("joined_words", "sentence", "glued"),
    ),
    Primitive(
        "longest_word", "reduce", LS, STR,
        run=lambda ws: max(ws, key=len, default=""),
        code='max($inp, key=len, default="")', var="longest",
        says=("pick the longest word, the first one on ties ('' if there are none)",
              "find the word with the most characters (the earliest on ties, the empty string for no words)",
              "take the longest word, preferring the first of equal length, or '' for an empty list"),
        names=("longest", "longest_word", "max_word"),
    ),
    Primitive(
        "shortest_word", "reduce", LS, STR,
        run=lambda ws: min(ws, key=len, default=""),
        code='min($inp, key=len, default="")', var="shortest",
        says=("pick the shortest word, the first one on ties ('' if there are none)",
              "find the word with the fewest characters (the earliest on ties, the empty string for no words)",
              "take the shortest word, preferring the first of equal length, or '' for an empty list"),
        names=("shortest", "shortest_word", "min_word"),
    ),
    Primitive(
        "initials", "reduce", LS, STR,
        run=lambda ws: "".join(w[:1] for w in ws),
        code='"".join(w[:1] for w in $inp)', var="initials",
        says=("join the first character of every word into one string (empty words add nothing)",
              "build an acronym from the first characters of the words, case kept",
              "concatenate the initial characters of the words (nothing for an empty word)"),
        names=("initials", "acronym", "first_letters"),
    ),
    Primitive(
        "count_occurrences", "count", LS, DSI,
        run=_count_items,
        code="$out = {}\nfor w in $inp:\n    $out[w] = $out.get(w, 0) + 1", var="word_counts",
        says=("count how often each word occurs, as a dict from word to count",
              "build a dict mapping each distinct word to the number of times it appears",
              "tally the words into a dict of word -> occurrences"),
        names=("word_counts", "word_frequencies", "tally_words"),
    ),
    Primitive(
        "length_by_word", "convert", LS, DSI,
        run=lambda ws: {w: len(w) for w in ws},
        code="{w: len(w) for w in $inp}", var="length_of",
        says=("map each word to its length in a dict", "build a dict from every word to its number of characters",
              "make a dict of word -> length"),
        names=("length_map", "lengths_by_word", "word_sizes"),
    ),
    Primitive(
        "group_by_first", "group", LS, DSL,
        run=_group_by_first,
        code="$out = {}\nfor w in $inp:\n    if w:\n        $out.setdefault(w[0], []).append(w)", var="groups",
        says=("group the non-empty words by their first character into a dict of lists, keeping the words' order",
              "build a dict from each first character to the list of the non-empty words starting with it, in order",
              "group the words under their initial character (skipping empty words), order kept in each group"),
        names=("grouped", "by_first_letter", "groups_by_initial"),
    ),
)

TEXT_EDITS = (
    Primitive(
        "strip_text", "edit", STR, STR,
        run=lambda s: s.strip(),
        code="$inp.strip()", var="stripped",
        says=("strip the whitespace from both ends of the text", "trim leading and trailing whitespace",
              "remove the spaces at the start and at the end"),
        names=("stripped_text", "trimmed_text", "strip_ends"),
    ),
    Primitive(
        "upper_text", "edit", STR, STR,
        run=lambda s: s.upper(),
        code="$inp.upper()", var="upper_text",
        says=("convert the text to upper case", "make every letter a capital", "upper-case the whole string"),
        names=("upper_text", "shout", "all_caps"),
    ),
    Primitive(
        "lower_text", "edit", STR, STR,
        run=lambda s: s.lower(),
        code="$inp.lower()", var="lower_text",
        says=("convert the text to lower case", "make every letter small", "lower-case the whole string"),
        names=("lower_text", "whisper", "all_lower"),
    ),
    Primitive(
        "swapcase_text", "edit", STR, STR,
        run=lambda s: s.swapcase(),
        code="$inp.swapcase()", var="swapped",
        says=("swap the case of every letter", "turn upper-case letters into lower case and lower-case ones into upper",
              "invert the case of each letter (str.swapcase)"),
        names=("swapped_case", "case_swapped", "inverted_case"),
    ),
    Primitive(
        "reverse_text", "edit", STR, STR,
        run=lambda s: s[::-1],
        code="$inp[::-1]", var="backwards_text",
        says=("reverse the text", "write the string backwards", "flip the characters end to end"),
        names=("reversed_text", "backwards_text", "mirror_text"),
    ),
    Primitive(
        "remove_vowels", "edit", STR, STR,
        run=lambda s: "".join(c for c in s if c not in _VOWELS),
        code='"".join(c for c in $inp if c not in "aeiouAEIOU")', var="consonants",
        says=("remove the vowels a, e, i, o and u, in either case (accented letters stay)",
              "delete every plain vowel (aeiou and AEIOU) from the text",
              "drop the characters a, e, i, o, u and their capitals"),
        names=("without_vowels", "no_vowels", "devoweled"),
    ),
    Primitive(
        "replace_char", "edit", STR, STR,
        run=lambda s, a, b: s.replace(a, b),
        code="$inp.replace($a, $b)", var="replaced",
        params=(Param("a", tuple("aeiost ")), Param("b", ("x", "*", "_", "-", "0"))),
        says=("replace every {a} with {b}", "substitute {b} for each occurrence of {a}",
              "change all {a} characters into {b}"),
        names=("replaced", "substituted", "swapped_chars"),
    ),
    Primitive(
        "remove_char", "edit", STR, STR,
        run=lambda s, c: s.replace(c, ""),
        code='$inp.replace($c, "")', var="without", params=(Param("c", tuple(" aeinst")),),
        says=("delete every {c} character", "remove all occurrences of {c}", "drop each {c} from the text"),
        names=("without_char", "removed_char", "deleted_char"),
    ),
    Primitive(
        "capitalize_words", "edit", STR, STR,
        run=lambda s: " ".join(w[:1].upper() + w[1:] for w in s.split(" ")),
        code='" ".join(w[:1].upper() + w[1:] for w in $inp.split(" "))', var="title_text",
        says=("upper-case the first character of every space-separated word, leaving the rest unchanged",
              "capitalize the first letter of each word (split on single spaces, other letters untouched)",
              "make each word start with a capital, keeping the other characters and the spaces as they are"),
        names=("capitalized_text", "title_case", "capitalize_words"),
    ),
    Primitive(
        "collapse_spaces", "edit", STR, STR,
        run=lambda s: " ".join(s.split()),
        code='" ".join($inp.split())', var="normalized",
        says=("collapse every run of whitespace into a single space and trim the ends",
              "normalize the spacing: words separated by exactly one space, none at the ends",
              "rejoin the whitespace-separated words with single spaces"),
        names=("normalized", "collapsed", "single_spaced"),
    ),
    Primitive(
        "keep_letters", "edit", STR, STR,
        run=lambda s: "".join(c for c in s if c.isalpha()),
        code='"".join(c for c in $inp if c.isalpha())', var="letters",
        says=("keep only the letters (str.isalpha), dropping spaces, digits and punctuation",
              "remove every character that is not a letter", "filter the text down to its alphabetic characters"),
        names=("letters", "only_letters", "letters_of"),
    ),
)

TEXT_CONVERSIONS = (
    Primitive(
        "split_words", "convert", STR, LS,
        run=lambda s: s.split(),
        code="$inp.split()", var="tokens",
        says=("split the text into words at runs of whitespace",
              "break it into the list of its whitespace-separated words",
              "cut the text into words (as str.split with no argument does)"),
        names=("words", "split_words", "tokens"),
    ),
    Primitive(
        "split_chars", "convert", STR, LS,
        run=lambda s: list(s),
        code="list($inp)", var="chars",
        says=("turn the text into the list of its characters", "split the string into single characters",
              "break it into a list with one entry per character"),
        names=("chars", "characters", "char_list"),
    ),
    Primitive(
        "text_length", "count", STR, INT,
        run=lambda s: len(s),
        code="len($inp)", var="length",
        says=("count its characters", "take the length of the text", "find how many characters it has"),
        names=("length", "text_length", "char_count"),
    ),
    Primitive(
        "count_vowels", "count", STR, INT,
        run=lambda s: sum(1 for c in s if c in _VOWELS),
        code='sum(1 for c in $inp if c in "aeiouAEIOU")', var="n_vowels",
        says=("count the vowels a, e, i, o, u in either case (accented letters do not count)",
              "find how many characters are among aeiouAEIOU", "count the plain vowels, upper or lower case"),
        names=("vowel_count", "count_vowels", "num_vowels"),
    ),
    Primitive(
        "count_char", "count", STR, INT,
        run=lambda s, c: s.count(c),
        code="$inp.count($c)", var="occurrences", params=(Param("c", tuple(" aeiost")),),
        says=("count the occurrences of {c}", "find how many times {c} appears", "count every {c} in the text"),
        names=("char_occurrences", "count_char", "times_char_appears"),
    ),
    Primitive(
        "count_upper", "count", STR, INT,
        run=lambda s: sum(1 for c in s if c.isupper()),
        code="sum(1 for c in $inp if c.isupper())", var="n_upper",
        says=("count the upper-case letters", "find how many capital letters it has",
              "count the characters for which str.isupper is true"),
        names=("upper_count", "count_capitals", "num_upper"),
    ),
    Primitive(
        "count_words_text", "count", STR, INT,
        run=lambda s: len(s.split()),
        code="len($inp.split())", var="n_tokens",
        says=("count its whitespace-separated words", "find how many words the text has (split at whitespace)",
              "count the words, words being separated by runs of whitespace"),
        names=("text_word_count", "words_in_text", "count_tokens"),
    ),
    Primitive(
        "char_frequency", "count", STR, DSI,
        run=_count_items,
        code="$out = {}\nfor c in $inp:\n    $out[c] = $out.get(c, 0) + 1", var="char_counts",
        says=("count how often each character occurs (spaces included), as a dict from character to count",
              "build a dict mapping every character of the text, spaces included, to its number of occurrences",
              "tally the characters, spaces and punctuation included, into a dict of character -> count"),
        names=("char_counts", "char_frequencies", "letter_tally"),
    ),
    Primitive(
        "is_palindrome", "test", STR, BOOL,
        run=lambda s: s == s[::-1],
        code="$inp == $inp[::-1]", var="palindrome",
        says=("tell whether the text reads the same backwards (exact characters, case and spaces count)",
              "check that the string equals its own reverse",
              "decide whether it is a palindrome, character for character"),
        names=("is_palindrome", "palindrome_check", "reads_same_backwards"),
    ),
    Primitive(
        "has_upper", "test", STR, BOOL,
        run=lambda s: any(c.isupper() for c in s),
        code="any(c.isupper() for c in $inp)", var="has_capital",
        says=("tell whether it contains at least one upper-case letter", "check whether any character is a capital",
              "decide whether some letter in it is upper case"),
        names=("has_upper", "contains_capital", "any_upper"),
    ),
)

PRIMITIVES = WORD_FILTERS + WORD_MAPS + WORD_ORDERS + WORD_REDUCTIONS + TEXT_EDITS + TEXT_CONVERSIONS
