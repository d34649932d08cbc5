"""The garbage collector as a long-running server wants it.

CPython's cyclic collector runs a young-generation pass every 700 net allocations of container
objects and, now and then, a full pass over every tracked object. A server process holds ~140 000
of them after start-up (langgraph, langchain-core, Starlette, the graphs), none of which become
garbage, and a trivial run allocates a few hundred: measured in one process, the collector took
~0.43 ms of a ~2 ms run, a fifth of the event loop's time, most of it re-scanning what start-up
made (bench/results/, issue 15).

So, once start-up is over: collect what it left, move everything that survived into the
permanent generation (`gc.freeze()`, which the collector never scans again: those objects live
as long as the process anyway), and let the young generation grow to 10 000 objects before a
pass. Garbage is still collected (reference counting frees most of it at once; cycles wait for
the next pass, a few MB at most), only less often and over fewer objects.
"""

from __future__ import annotations

import gc

# young-generation size before a pass; the older generations keep CPython's ratios
YOUNG_THRESHOLD = 10_000


def settle_after_startup() -> None:
    """Freeze what start-up made and space out the collector's passes (see the module)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
