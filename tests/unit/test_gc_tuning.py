"""The collector's settings after start-up (gc_tuning.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from graphport import gc_tuning


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a


def test_what_startup_made_is_frozen_and_the_young_generation_grows(restore_gc: None) -> None:
    gc.unfreeze()
    made_at_startup = [Node() for _ in range(100)]
    gc_tuning.settle_after_startup()
    assert gc.get_freeze_count() >= len(made_at_startup)
    assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
    # the generations above keep CPython's defaults
    assert gc.get_threshold()[1:] == (10, 10)


def test_cycles_made_after_startup_are_still_collected(restore_gc: None) -> None:
    gc_tuning.settle_after_startup()
    before = sum(isinstance(o, Node) for o in gc.get_objects())
    for _ in range(50):
        _cycle()
    assert sum(isinstance(o, Node) for o in gc.get_objects()) == before + 100
    gc.collect()
    assert sum(isinstance(o, Node) for o in gc.get_objects()) == before
