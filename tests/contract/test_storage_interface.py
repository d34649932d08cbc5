"""The contract suite calls every method of the storage interface (its safety net is whole)."""

from __future__ import annotations

import re
from pathlib import Path

from graphport.storage.base import Storage

# lifecycle, called by the `storage` fixture itself
FIXTURE_CALLS = {"open", "close"}


def test_every_storage_method_is_called_by_the_contract_suite() -> None:
    methods = set(Storage.__abstractmethods__)
    assert len(methods) >= 46
    source = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    called = set(re.findall(r"storage\.(\w+)\(", source)) | FIXTURE_CALLS
    assert sorted(methods - called) == []
