"""A small deterministic embedding for the store tests: bag of words hashed into a few dims.

No model and no network: texts that share words are close (cosine), texts that share none are
orthogonal unless two words collide. Loadable by graphport and by the reference alike
(`"embed": "./embeddings.py:embed"`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

DIMS = 64


def _vector(text: str) -> list[float]:
    vec = [0.0] * DIMS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
        vec[int.from_bytes(digest, "big") % DIMS] += 1.0
    if not any(vec):  # no words: a fixed direction, so cosine distances stay defined
        vec[0] = 1.0
    return vec


def embed(texts: Sequence[str]) -> list[list[float]]:
    return [_vector(t) for t in texts]


async def aembed(texts: Sequence[str]) -> list[list[float]]:
    return embed(texts)
