"""`miniworld-py`: generated Python-function tasks in HumanEval form (signature + docstring; the model
writes the body), composed of 1 to 3 steps over lists, strings, integers and dicts.

Layout, in the order the data flows: `steps` (records), `prims_*` (the primitives: implementation and
code template side by side), `primitives` (registry), `inputs` (edge and random test inputs),
`compose` (drawing compositions and trusted test cases), `source` and `phrasing` (code and words),
`generate` (the world). Expected outputs always come from the primitives' implementations, never from
executing generated source.
"""

from cosmocore.worlds.pyfuncs.generate import WORLD, generate_world, split_of

__all__ = ["WORLD", "generate_world", "split_of"]
