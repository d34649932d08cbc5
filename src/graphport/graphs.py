"""Read the `graphs` of langgraph.json and hand out runnable graphs.

An entry is a compiled graph, an uncompiled `StateGraph`, or a factory (sync or async, taking
nothing, a `RunnableConfig`, a `ServerRuntime`, or both) that may also return a (async) context
manager. Every graph handed out carries graphport's checkpointer and store.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph_sdk.runtime import AccessContext, _ExecutionRuntime, _ReadRuntime

from graphport.config import ConfigError, Settings

# langgraph-api derives system assistant ids from this namespace (not uuid.NAMESPACE_URL).
# A compiled graph, whatever its state, context, input and output types.
Graph: TypeAlias = Pregel[Any, Any, Any, Any]

ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def default_assistant_id(graph_id: str) -> str:
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


@dataclass
class GraphEntry:
    """One graph of langgraph.json."""

    graph_id: str
    source: str
    description: str | None
    obj: Any  # a compiled Pregel, or a factory callable
    factory_params: tuple[str, ...] = ()  # how the factory is called: "config" / "runtime"
    _param_names: dict[str, str] = field(default_factory=dict)  # role -> parameter name
    _positional: bool = False  # a one-parameter factory is called positionally
    _copies: dict[int, Graph] = field(default_factory=dict)  # per checkpointer

    @property
    def is_factory(self) -> bool:
        return not isinstance(self.obj, Pregel)

    @property
    def assistant_id(self) -> str:
        return default_assistant_id(self.graph_id)

    @property
    def name(self) -> str:
        if isinstance(self.obj, Pregel) and self.obj.name and self.obj.name != "LangGraph":
            return self.obj.name
        return self.graph_id

    def _attach(self, graph: Any, checkpointer: Any, store: BaseStore) -> Graph:
        if isinstance(graph, StateGraph):
            graph = graph.compile()
        if not isinstance(graph, Pregel):
            raise TypeError(
                f"Graph factory for '{self.graph_id}' returned {type(graph).__name__}, not a graph"
            )
        update: dict[str, Any] = {"checkpointer": checkpointer, "store": store}
        if graph.name == "LangGraph":
            update["name"] = self.graph_id
        return graph.copy(update=update)

    @contextlib.asynccontextmanager
    async def resolve(
        self,
        config: dict[str, Any],
        *,
        checkpointer: BaseCheckpointSaver[str] | bool | None,
        store: BaseStore,
        access: AccessContext = "threads.create_run",
        context: Any = None,
    ) -> AsyncIterator[Graph]:
        """Yield the graph for one use, with `checkpointer` and `store` attached."""
        if not self.is_factory:
            key = id(checkpointer)
            graph = self._copies.get(key)
            if graph is None:
                graph = self._copies[key] = self._attach(self.obj, checkpointer, store)
            yield graph
            return
        kwargs: dict[str, Any] = {}
        if "config" in self.factory_params:
            kwargs["config"] = config
        if "runtime" in self.factory_params:
            if access == "threads.create_run":
                kwargs["runtime"] = _ExecutionRuntime(
                    access_context="threads.create_run", store=store, context=context
                )
            else:
                kwargs["runtime"] = _ReadRuntime(access_context=access, store=store)
        names = list(kwargs)
        if len(names) == 1 and self._positional:
            made = self.obj(kwargs[names[0]])
        else:
            made = self.obj(**{self._param_names[k]: v for k, v in kwargs.items()})
        if inspect.isawaitable(made):
            made = await made
        if hasattr(made, "__aenter__"):
            async with made as graph:
                yield self._attach(graph, checkpointer, store)
        elif hasattr(made, "__enter__") and not isinstance(made, Pregel | StateGraph):
            with made as graph:
                yield self._attach(graph, checkpointer, store)
        else:
            yield self._attach(made, checkpointer, store)


def _is_runtime_annotation(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return "ServerRuntime" in text or "_ExecutionRuntime" in text or "_ReadRuntime" in text


def _classify_factory(entry: GraphEntry, fn: Callable[..., Any], where: str) -> None:
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if len(params) > 2:
        raise ConfigError(
            f"Graph factory {where} takes {len(params)} parameters; "
            "expected at most a config and a ServerRuntime"
        )
    roles: dict[str, str] = {}
    for p in params:
        role = "runtime" if _is_runtime_annotation(p.annotation) else "config"
        if role in roles:  # two un-annotated parameters: config first, runtime second
            role = "runtime" if role == "config" else "config"
        roles[role] = p.name
    entry.factory_params = tuple(roles)
    entry._param_names = roles
    entry._positional = len(params) == 1 and params[0].kind in (
        params[0].POSITIONAL_ONLY,
        params[0].POSITIONAL_OR_KEYWORD,
    )


def _import_module(spec: str, base_dir: Path, cache: dict[str, Any]) -> Any:
    if "/" in spec or spec.endswith(".py"):
        path = (base_dir / spec).resolve()
        if not path.is_file():
            raise ConfigError(f"Could not find graph file {path}")
        key = str(path)
        if key not in cache:
            name = "graphport_user_graphs." + path.stem + f"_{len(cache)}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise ConfigError(f"Could not load {path}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            if str(path.parent) not in sys.path:
                sys.path.insert(0, str(path.parent))
            module_spec.loader.exec_module(module)
            cache[key] = module
        return cache[key]
    if spec not in cache:
        cache[spec] = importlib.import_module(spec)
    return cache[spec]


def import_failure(where: str, module_spec: str, exc: BaseException) -> ConfigError:
    """A ConfigError naming the file and line where importing user code failed, with the
    traceback of that code in `details`."""
    import traceback

    frames = [  # the user's code only: not graphport's nor importlib's frames
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename != __file__ and not f.filename.startswith("<frozen")
    ]
    message, place = str(exc), ""
    if isinstance(exc, SyntaxError) and exc.filename:
        message, place = str(exc.msg), f" ({exc.filename}, line {exc.lineno})"
    elif frames:
        place = f" ({frames[-1].filename}, line {frames[-1].lineno})"
    error = ConfigError(
        f"{where}: importing {module_spec} failed: {type(exc).__name__}: {message}{place}"
    )
    trace = "".join(traceback.format_list(frames))
    only = "".join(traceback.format_exception_only(exc))
    error.details = (f"Traceback (most recent call last):\n{trace}" if trace else "") + only
    error.details = error.details.rstrip()
    return error


def _import_or_explain(module_spec: str, base_dir: Path, cache: dict[str, Any], where: str) -> Any:
    try:
        return _import_module(module_spec, base_dir, cache)
    except ConfigError:
        raise
    except Exception as exc:
        raise import_failure(where, module_spec, exc) from exc


def import_checked(
    spec: Any, base_dir: Path, where: str, kind: type, example: str, what: str
) -> Any:
    """The object `where` (a langgraph.json key) names as `./file.py:var` or `pkg.module:var`,
    which must be a `kind` (`what`, in the error)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ConfigError(
            f"{where} must name {what} as './{example}.py:{example}' or "
            f"'package.module:{example}', got {spec!r}"
        )
    found = import_object(spec, base_dir, where)
    if not isinstance(found, kind):
        raise ConfigError(f"{where} {spec!r} is a {type(found).__name__}, not {what}")
    return found


def import_object(spec: str, base_dir: Path, where: str) -> Any:
    """The variable named by `./file.py:var` or `pkg.module:var` (for `http.app`)."""
    module_spec, _, attr = spec.rpartition(":")
    module = _import_or_explain(module_spec, base_dir, {}, f"{where} {spec!r}")
    if not hasattr(module, attr):
        raise ConfigError(f"{where} {spec!r}: variable '{attr}' not found in {module_spec}")
    return getattr(module, attr)


def load_entry(graph_id: str, value: Any, base_dir: Path, cache: dict[str, Any]) -> GraphEntry:
    """Import one `graphs` entry; raise ConfigError naming file, attribute and cause."""
    description = None
    if isinstance(value, dict):
        description = value.get("description")
        value = value.get("path")
    if not isinstance(value, str) or ":" not in value:
        raise ConfigError(
            f"Graph '{graph_id}': expected 'path/to/file.py:variable' or 'module:variable', "
            f"got {value!r}"
        )
    module_spec, _, attr = value.rpartition(":")
    module = _import_or_explain(module_spec, base_dir, cache, f"Graph '{graph_id}'")
    if not hasattr(module, attr):
        candidates = [
            n
            for n, v in vars(module).items()
            if isinstance(v, Pregel | StateGraph) and not n.startswith("__")
        ]
        hint = f" Graphs found in it: {', '.join(candidates)}." if candidates else ""
        raise ConfigError(
            f"Graph '{graph_id}': variable '{attr}' not found in {module_spec}.{hint}"
        )
    obj = getattr(module, attr)
    entry = GraphEntry(graph_id=graph_id, source=value, description=description, obj=obj)
    if isinstance(obj, StateGraph):
        entry.obj = obj.compile()
    elif isinstance(obj, Pregel):
        pass
    elif callable(obj):
        _classify_factory(entry, obj, f"'{attr}' in {module_spec}")
    else:
        raise ConfigError(
            f"Graph '{graph_id}': variable '{attr}' in {module_spec} is not a Graph or "
            f"Graph factory function (it is a {type(obj).__name__})"
        )
    return entry


def load_env(settings: Settings) -> None:
    """Apply langgraph.json's `env` (a .env file or a mapping); the shell's variables win."""
    env = settings.env
    if isinstance(env, str):
        from dotenv import dotenv_values

        path = settings.base_dir / env
        if not path.is_file():
            raise ConfigError(f"env file not found: {path}")
        values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    elif isinstance(env, dict):
        values = {str(k): str(v) for k, v in env.items()}
    else:
        values = {}
    for key, val in values.items():
        os.environ.setdefault(key, val)


def _prepare(settings: Settings) -> None:
    """Load `env` and put the local `dependencies` on sys.path, before any user code runs."""
    load_env(settings)
    base = settings.base_dir
    for dep in [*settings.dependencies, "."]:
        if dep.startswith((".", "/")):
            path = str((base / dep).resolve())
            if path not in sys.path:
                sys.path.insert(0, path)


def load_graphs(settings: Settings) -> dict[str, GraphEntry]:
    """Put `dependencies` on sys.path and import every graph of the config, and the store's
    embedding (so that a broken one stops the server here too)."""
    _prepare(settings)
    cache: dict[str, Any] = {}
    graphs = {
        gid: load_entry(gid, v, settings.base_dir, cache) for gid, v in settings.graphs.items()
    }
    load_embeddings(settings, cache)
    return graphs


# Loaded embeddings by (config file, `embed`): imported once, by load_graphs, then reused by the
# storage that opens the store.
_embeddings: dict[tuple[str, str], Any] = {}


def load_embeddings(settings: Settings, cache: dict[str, Any] | None = None) -> Any:
    """The embedding named by `store.index.embed` (an `Embeddings`, or a sync or async function
    of a list of texts), or None without `store.index`.

    `./file.py:var` (relative to langgraph.json) and `pkg.module:var` name a variable; anything
    else is a provider string for LangChain's `init_embeddings` (`openai:text-embedding-3-small`),
    which needs the `langchain` package and the provider's."""
    index = settings.store.index
    if index is None:
        return None
    key = (str(settings.config_path), index.embed)
    if key not in _embeddings:
        if cache is None:
            _prepare(settings)
        _embeddings[key] = _load_embed(
            index.embed, settings.base_dir, {} if cache is None else cache
        )
    return _embeddings[key]


def _load_embed(spec: str, base_dir: Path, cache: dict[str, Any]) -> Any:
    from langchain_core.embeddings import Embeddings

    where = f"store.index.embed {spec!r}"
    module_spec, _, attr = spec.rpartition(":")
    is_file = "/" in module_spec or module_spec.endswith(".py")
    if is_file or "." in module_spec:  # provider names have no dots
        if is_file and not (base_dir / module_spec).is_file():
            raise ConfigError(f"{where}: file not found: {(base_dir / module_spec).resolve()}")
        module = _import_or_explain(module_spec, base_dir, cache, where)
        if not hasattr(module, attr):
            raise ConfigError(f"{where}: variable '{attr}' not found in {module_spec}")
        obj = getattr(module, attr)
        if not (isinstance(obj, Embeddings) or callable(obj)):
            raise ConfigError(
                f"{where}: '{attr}' is a {type(obj).__name__}, not an Embeddings or a function "
                "of a list of texts"
            )
        return obj
    try:
        from langchain.embeddings import init_embeddings
    except ImportError:
        raise ConfigError(
            f"{where} names an embeddings provider: loading it needs the langchain package and "
            "the provider's (for example: pip install langchain langchain-openai). Or name a "
            'function in a Python file instead: "./embeddings.py:embed"'
        ) from None
    try:
        return init_embeddings(spec)
    except Exception as exc:
        raise ConfigError(f"{where}: {type(exc).__name__}: {exc}") from exc
