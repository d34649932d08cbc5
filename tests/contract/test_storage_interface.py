"""The contract suite calls every method of the storage interface, with every parameter (its
safety net is whole): a method or parameter added to `Storage` without a contract test that
passes it fails here."""

from __future__ import annotations

import abc
import ast
import inspect
from collections.abc import Iterable
from pathlib import Path

from graphport.storage.base import Storage

# lifecycle, called by the `storage` fixture itself
FIXTURE_CALLS = {"open", "close"}


def interface(cls: type) -> dict[str, list[str]]:
    """Each abstract method of `cls` and the names of its parameters."""
    return {
        name: [p for p in inspect.signature(getattr(cls, name)).parameters if p != "self"]
        for name in sorted(cls.__abstractmethods__)
    }


def _storage_calls(tree: ast.AST) -> Iterable[tuple[str, ast.Call]]:
    """`storage.<method>(...)` calls (real calls: docstrings and comments do not count)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "storage"
        ):
            yield node.func.attr, node


def _forwarders(tree: ast.AST) -> dict[str, str]:
    """Helper functions that pass `**kwargs` on to a storage method (directly or through
    another such helper), each with that method."""
    forwards: dict[str, str] = {}
    functions = [
        fn for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    grown = True
    while grown:  # a helper of a helper is found on the next round
        grown = False
        for fn in functions:
            for node in ast.walk(fn):
                if not isinstance(node, ast.Call) or all(k.arg for k in node.keywords):
                    continue
                if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                    target = node.func.attr if node.func.value.id == "storage" else None
                else:
                    target = forwards.get(node.func.id) if isinstance(node.func, ast.Name) else None
                if target and fn.name not in forwards:
                    forwards[fn.name] = target
                    grown = True
    return forwards


def passed(sources: Iterable[str], methods: dict[str, list[str]]) -> dict[str, set[str]]:
    """For each method called in `sources`, the parameters some call passes: positionally, by
    keyword, or by keyword to a helper of the same module that forwards `**kwargs` to it."""
    found: dict[str, set[str]] = {}
    for source in sources:
        tree = ast.parse(source)
        forwards = _forwarders(tree)
        for name, call in _storage_calls(tree):
            params = methods.get(name, [])
            got = found.setdefault(name, set())
            got |= {params[i] for i in range(min(len(call.args), len(params)))}
            got |= {k.arg for k in call.keywords if k.arg}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                target = forwards.get(node.func.id)
                if target in methods:
                    found.setdefault(target, set()).update(k.arg for k in node.keywords if k.arg)
    return found


def uncovered(methods: dict[str, list[str]], sources: Iterable[str]) -> list[str]:
    """`method` never called, or `method(param=)` never passed, by the contract tests."""
    calls = passed(sources, methods)
    missing = []
    for name, params in methods.items():
        if name in FIXTURE_CALLS:
            continue
        if name not in calls:
            missing.append(name)
        else:
            missing += [f"{name}({p}=)" for p in params if p not in calls[name]]
    return missing


def contract_sources() -> list[str]:
    return [p.read_text() for p in sorted(Path(__file__).parent.glob("test_*.py"))]


def test_every_storage_method_and_parameter_is_exercised() -> None:
    methods = interface(Storage)
    assert "create_run" in methods and "visible" in methods["search_threads"]
    assert uncovered(methods, contract_sources()) == []


def test_a_new_abstract_method_or_parameter_is_reported() -> None:
    """The check above is able to fail: an interface grown by one method and one parameter is
    reported on the very same test sources."""

    class Grown(Storage):
        @abc.abstractmethod
        async def brand_new(self, thread_id: str) -> None: ...

        @abc.abstractmethod
        async def get_thread(self, thread_id: str, *, fresh: bool = False) -> None: ...  # type: ignore[override]

    sources = contract_sources()
    grown = set(uncovered(interface(Grown), sources)) - set(uncovered(interface(Storage), sources))
    assert grown == {"brand_new", "get_thread(fresh=)"}


def test_helpers_forwarding_keywords_count_and_comments_do_not() -> None:
    source = '''
async def search(storage, **kw):
    return await storage.search_threads(limit=5, **kw)

async def ids(**kw):
    return await search(storage, **kw)

async def test_x(storage):
    """storage.get_thread(x) in a docstring is no call"""
    await ids(status="idle")
'''
    calls = passed([source], interface(Storage))
    assert calls == {"search_threads": {"limit", "status"}}
