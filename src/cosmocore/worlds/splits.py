"""How every world splits its tasks: by composition, so the test split measures generalisation.

A composition (the sequence of step names, e.g. "filter_even>square>sum") goes to "test" when its
SHA-256 is 0 mod 5 and to "train" otherwise: about one in five, the same for every seed and every
run, and no composition is ever in both splits.
"""

from __future__ import annotations

import hashlib


def split_of(composition: str) -> str:
    """"test" for one composition in five (by a stable hash), "train" for the rest."""
    digest = hashlib.sha256(composition.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") % 5 == 0 else "train"
