"""The bus transports between processes: Unix datagrams, PostgreSQL LISTEN/NOTIFY and Redis
pub/sub deliver every message of a sender, in order, whatever its size, to the other
listeners, once."""

from __future__ import annotations

import asyncio
import shutil
import uuid

import pytest

from graphport.bus.transports import PostgresNotify, RedisPubSub, UnixDatagrams
from tests.cluster.conftest import REDIS, require_redis
from tests.contract.conftest import open_postgres


@pytest.fixture(params=["unix", "notify", "redis"])
async def transports(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "unix":
        pair = [UnixDatagrams(str(tmp_path / "bus")), UnixDatagrams(str(tmp_path / "bus"))]
        yield pair
        for t in pair:
            await t.stop()
        return
    storage = await open_postgres(request.getfixturevalue("postgres_database"))
    channel = f"graphport_{uuid.uuid4().hex[:16]}"
    if request.param == "redis":
        require_redis()
        pair = [RedisPubSub(REDIS, channel), RedisPubSub(REDIS, channel)]
    else:
        url = storage.url  # type: ignore[attr-defined]
        pair = [PostgresNotify(url, channel), PostgresNotify(url, channel)]
    try:
        yield pair
    finally:
        for t in pair:
            await t.stop()
        await storage.close()


async def test_every_message_arrives_in_order(transports) -> None:  # type: ignore[no-untyped-def]
    sender, receiver = transports
    got: list[str] = []
    done = asyncio.Event()
    messages = [f"e|run|x|{i}|" + ("y" * (20_000 if i % 50 == 7 else i)) for i in range(300)]
    messages += ["w||x|", "w||x|", "f|t|x|", "u|t|x|", "f|t|x|"]  # duplicates in one batch
    messages.append("z|end|x|")

    def on_message(message: str) -> None:
        got.append(message)
        if message == "z|end|x|":
            done.set()

    await receiver.start(on_message)
    await sender.start(lambda m: None)
    for m in messages:
        sender.send(m)
    await asyncio.wait_for(done.wait(), 30)
    # NOTIFY delivers identical payloads of one transaction once: the transport merges a
    # repeated wake-up (harmless) but must keep follow / unfollow / follow apart
    merged = messages[:301] + messages[302:]
    assert got in (messages, merged)


async def test_unix_sockets_beside_a_deeply_nested_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A socket's path holds at most 107 bytes: for a database that deep, both processes meet
    in one private directory of the temp directory instead of beside the file."""
    from graphport.storage.sqlite import bus_directory

    deep = tmp_path.joinpath(*["nested-directory"] * 8) / "graphport.sqlite"
    short = tmp_path / "g.sqlite"
    assert bus_directory(str(short)) == f"{short}.bus"
    directory = bus_directory(str(deep))
    assert directory == bus_directory(str(deep)) and not directory.startswith(str(tmp_path))
    sender, receiver = UnixDatagrams(directory), UnixDatagrams(directory)
    got = asyncio.Event()
    try:
        await receiver.start(lambda message: got.set() if message == "w||x|" else None)
        await sender.start(lambda m: None)
        sender.send("w||x|")
        await asyncio.wait_for(got.wait(), 30)
    finally:
        for t in (sender, receiver):
            await t.stop()
        shutil.rmtree(directory, ignore_errors=True)
