"""The bus transports between processes: Unix datagrams, PostgreSQL LISTEN/NOTIFY and Redis
pub/sub deliver every message of a sender, in order, whatever its size, to the other
listeners, once."""

from __future__ import annotations

import asyncio
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
