"""Mutators of names. wrong_variable: a variable read replaced by another variable of the same function
(or an enclosing one); hallucinated_api: a method, builtin, module or module attribute replaced by one
that does not exist, as a code model invents it (`.append` -> `.push`, `len` -> `length`,
`import collections` -> `import collection`, `math.ceil` -> `math.ceiling`), from the tables below of
real names and their invented counterparts, never a name the program defines."""

from __future__ import annotations

import ast
import re

from cosmocore.worlds.bugs.program import Change, Edit, Located, Program, Site


# ---------------------------------------------------------------- wrong_variable


def variable_sites(p: Program) -> list[Site]:
    called = {id(node.func) for node, _ in p.walk() if isinstance(node, ast.Call)}
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in called:
            names = p.visible(functions)
            if node.id in names:
                others = [name for name in names if name != node.id]
                sites.append([p.change(node, other, f"used `{other}` instead of `{node.id}`") for other in others])
    return [site for site in sites if site]


# ---------------------------------------------------------------- hallucinated_api

_METHODS: dict[str, tuple[str, ...]] = {  # real method -> names a model invents for it
    "append": ("push", "add"), "extend": ("push_all", "append_all"), "add": ("append", "push"),
    "insert": ("insert_at",), "pop": ("pop_back", "remove_last"), "remove": ("delete",), "sort": ("sorted",),
    "reverse": ("reversed",), "copy": ("clone",), "index": ("index_of", "find_index"), "count": ("count_of",),
    "lower": ("lowercase", "to_lower"), "upper": ("uppercase", "to_upper"), "strip": ("trim",),
    "lstrip": ("trim_start", "ltrim"), "rstrip": ("trim_end", "rtrim"), "startswith": ("starts_with",),
    "endswith": ("ends_with",), "split": ("split_by",), "splitlines": ("lines",), "join": ("join_with", "concat"),
    "replace": ("replace_all",), "find": ("index_of", "indexOf"), "isdigit": ("is_digit", "isnumber"),
    "isalpha": ("is_alpha", "isletter"), "isalnum": ("is_alnum",), "isupper": ("is_upper",),
    "islower": ("is_lower",), "isspace": ("is_space", "iswhitespace"), "isnumeric": ("is_numeric",),
    "isdecimal": ("is_decimal",), "swapcase": ("swap_case",), "capitalize": ("capitalise",),
    "title": ("to_title",), "zfill": ("pad_left",), "ljust": ("pad_right",), "rjust": ("pad_left",),
    "center": ("centre",), "format": ("formatted",), "items": ("iteritems", "entries"), "keys": ("iterkeys",),
    "values": ("itervalues",), "get": ("get_or_default", "getOrDefault"), "setdefault": ("set_default",),
    "update": ("merge",), "union": ("merge",), "intersection": ("intersect",), "difference": ("minus",),
    "issubset": ("is_subset",), "most_common": ("most_frequent",), "appendleft": ("push_front",),
    "popleft": ("pop_front",),
}  # fmt: skip
_MODULE_ATTRS: dict[str, tuple[str, ...]] = {  # real module attribute -> invented ones
    "sqrt": ("square_root",), "isqrt": ("int_sqrt",), "floor": ("floor_div",), "ceil": ("ceiling",),
    "gcd": ("greatest_common_divisor",), "lcm": ("least_common_multiple",), "factorial": ("fact",),
    "log": ("ln",), "pi": ("PI",), "inf": ("infinity",), "prod": ("product",), "fabs": ("absolute",),
    "Counter": ("Count", "Counts"), "defaultdict": ("default_dict",), "OrderedDict": ("SortedDict",),
    "deque": ("Deque",), "permutations": ("permutate",), "combinations": ("combos",), "chain": ("concat",),
    "accumulate": ("running",), "groupby": ("group_by",), "reduce": ("fold",), "cmp_to_key": ("key_from_cmp",),
    "heappush": ("push",), "heappop": ("pop",), "heapify": ("make_heap",), "sub": ("replace",),
    "findall": ("find_all",), "split": ("split_by",), "ascii_lowercase": ("lowercase",),
    "ascii_uppercase": ("uppercase",), "ascii_letters": ("letters",), "punctuation": ("punctuations",),
    "md5": ("md5sum",), "bisect_left": ("lower_bound",), "bisect_right": ("upper_bound",),
}  # fmt: skip
_BUILTINS: dict[str, tuple[str, ...]] = {  # real builtin -> invented ones
    "len": ("length", "size"), "sorted": ("sort",), "reversed": ("reverse",), "enumerate": ("enumerated",),
    "sum": ("total",), "max": ("maximum",), "min": ("minimum",), "abs": ("absolute",), "range": ("xrange",),
    "zip": ("izip", "zip_longest"), "map": ("imap",), "filter": ("ifilter",), "str": ("string",),
    "int": ("integer",), "float": ("double",), "bool": ("boolean",), "list": ("array",), "dict": ("hashmap",),
    "set": ("hashset",), "tuple": ("Tuple",), "isinstance": ("instanceof",), "ord": ("char_code",),
    "chr": ("char",), "any": ("some",), "all": ("every",), "pow": ("power",), "divmod": ("div_mod",),
    "bin": ("binary",), "hex": ("to_hex",), "round": ("rounded",), "print": ("println",),
}  # fmt: skip
_MODULES: dict[str, tuple[str, ...]] = {  # real module -> invented ones
    "collections": ("collection",), "itertools": ("itertool",), "functools": ("functool",), "math": ("maths",),
    "string": ("strings",), "re": ("regexp",), "heapq": ("heap",), "hashlib": ("hashlibs",),
    "bisect": ("binary_search",), "statistics": ("stats",), "operator": ("operators",), "random": ("randoms",),
    "datetime": ("date_time",), "typing": ("typings",),
}  # fmt: skip


def api_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            sites.append(_attribute_site(p, node))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in p.visible(functions):
            sites.append(_name_site(p, node, _BUILTINS.get(node.id, ()), "function"))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            sites.extend(_import_sites(p, node))
    return [site for site in sites if site]


def _attribute_site(p: Program, node: ast.Attribute) -> Site:
    on_module = isinstance(node.value, ast.Name) and node.value.id in p.modules
    invented = (_MODULE_ATTRS if on_module else _METHODS).get(node.attr, ())
    end = p.end(node)
    start = end - len(node.attr)
    if p.text[start:end] != node.attr:  # a non-ASCII name the parser normalised
        return []
    what = f"`.{node.attr}`"
    return [
        Change((Edit(start, end, new),), f"hallucinated `.{new}` for {what} in line {node.lineno}")
        for new in invented
        if new not in p.defined
    ]


def _name_site(p: Program, node: Located, invented: tuple[str, ...], kind: str) -> Site:
    old = p.segment(node)
    return [p.change(node, new, f"hallucinated {kind} `{new}` for `{old}`") for new in invented if new not in p.defined]


def _import_sites(p: Program, node: ast.Import | ast.ImportFrom) -> list[Site]:
    sites: list[Site] = []
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        found = re.compile(r"from\s+(\w+)").match(p.text, p.start(node))
        invented = _MODULES.get(node.module.split(".")[0], ())
        if found and found.group(1) == node.module.split(".")[0]:
            edits = [Edit(found.start(1), found.end(1), new) for new in invented if new not in p.defined]
            sites.append([Change((e,), f"hallucinated module `{e.text}` in line {node.lineno}") for e in edits])
    for alias in node.names:
        top = alias.name.split(".")[0]
        table = _MODULES if isinstance(node, ast.Import) else _MODULE_ATTRS
        start = p.start(alias)
        if p.text.startswith(top, start):
            edits = [Edit(start, start + len(top), new) for new in table.get(top, ()) if new not in p.defined]
            what = f"hallucinated import `{{}}` for `{top}` in line {node.lineno}"
            sites.append([Change((e,), what.format(e.text)) for e in edits])
    return sites
