"""The pipes of ClusterBus: PostgreSQL LISTEN/NOTIFY (the default with PostgreSQL), Redis
pub/sub, or Unix datagram sockets (processes sharing a SQLite file on one machine).

Both keep the order in which one process sends (one sending connection, messages sent in
batches that keep their order) and reconnect after a lost connection. A message lost while a
connection is down costs at most a delay: after reconnecting the transport reports a wake-up,
so pending runs are claimed, and abandoned runs are recovered by the heartbeat either way.

Why Redis when it is there: a NOTIFY is delivered at COMMIT, under a lock every notifying
transaction of the database shares, and wakes every listening backend; with Redis the bus
traffic (run ends, live events) stays out of the database, which then only stores runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from graphport.bus.cluster import Transport
from graphport.storage.base import Peers

log = logging.getLogger("graphport.bus")

WAKE = "w||-|"  # delivered locally after a reconnect: something may have been missed
BATCH = 500
RECONNECT_DELAY = 0.5


class _Sender:
    """An ordered queue drained in batches by one task."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def send(self, message: str) -> None:
        self.queue.put_nowait(message)

    async def drain(self, timeout: float = 1.0) -> None:
        """Give queued messages (a last run end, a hand-back wake-up) a moment to leave."""
        for _ in range(int(timeout / 0.05)):
            if self.queue.empty():
                return
            await asyncio.sleep(0.05)

    async def next_batch(self) -> list[str]:
        batch = [await self.queue.get()]
        while len(batch) < BATCH and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch


def _deliver(on_message: Callable[[str], None], message: str) -> None:
    """Hand one received message to the bus; a failure there never stops the listener."""
    try:
        on_message(message)
    except Exception:
        log.exception("handling a bus message failed")


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def transport_for(peers: Peers, redis_url: str | None) -> Transport:
    """Sockets for processes of one machine (a SQLite file), Redis pub/sub when a Redis URL is
    given, else PostgreSQL's own LISTEN/NOTIFY."""
    if peers.socket_dir is not None:
        return UnixDatagrams(peers.socket_dir)
    if redis_url:
        return RedisPubSub(redis_url, peers.channel)
    if peers.database_url is None:
        raise ValueError("storage names no way to reach the processes it is shared with")
    return PostgresNotify(peers.database_url, peers.channel)


class PostgresNotify(_Sender):
    """NOTIFY on `channel` of the database graphport stores its runs in.

    A payload must stay under 8000 bytes: a larger message is stored in `bus_payloads` in the
    same transaction and announced as `@<id>`; receivers read it on their own connection.
    Messages older than 10 minutes are swept from that table by whoever sends next.
    Why the transport owns this table and not storage: what it holds is bus traffic (live
    events, a stateless run's result, whose rows are gone once it ends), never a row the
    storage interface serves; it is NOTIFY's overflow, swept on the bus's own schedule.
    """

    LIMIT = 7_900
    SWEEP_EVERY = 60.0

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url, self.channel = url, channel
        self._tasks: list[asyncio.Task[None]] = []
        self._swept = 0.0

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True)

    async def start(self, on_message: Callable[[str], None]) -> None:
        listen = await self._connect()
        await listen.execute(f"LISTEN {self.channel}")
        self._tasks = [
            asyncio.create_task(self._listen_loop(listen, on_message)),
            asyncio.create_task(self._send_loop()),
        ]

    async def stop(self) -> None:
        await self.drain()
        await _cancel(self._tasks)

    async def _listen_loop(
        self, conn: psycopg.AsyncConnection[Any], on_message: Callable[[str], None]
    ) -> None:
        fetch: psycopg.AsyncConnection[Any] | None = None
        while True:
            try:
                async for notify in conn.notifies():
                    payload = notify.payload
                    if payload.startswith("@"):
                        if fetch is None or fetch.closed:
                            fetch = await self._connect()
                        cur = await fetch.execute(
                            "SELECT body FROM bus_payloads WHERE id = %s", (int(payload[1:]),)
                        )
                        row = await cur.fetchone()
                        if row is None:
                            continue  # swept: too old to matter
                        payload = bytes(row[0]).decode()
                    _deliver(on_message, payload)
            except asyncio.CancelledError:
                await conn.close()
                if fetch is not None:
                    await fetch.close()
                raise
            except psycopg.Error as exc:
                log.warning("bus listener lost its connection (%s); reconnecting", exc)
            await asyncio.sleep(RECONNECT_DELAY)
            with contextlib.suppress(psycopg.Error):
                conn = await self._connect()
                await conn.execute(f"LISTEN {self.channel}")
                on_message(WAKE)

    async def _send_loop(self) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        while True:
            batch = await self.next_batch()
            try:
                if conn is None or conn.closed:
                    conn = await self._connect()
                await self._notify(conn, batch)
            except asyncio.CancelledError:
                raise
            except psycopg.Error as exc:
                log.warning("bus lost %d messages (%s)", len(batch), exc)
                conn = None
                await asyncio.sleep(RECONNECT_DELAY)

    async def _notify(self, conn: psycopg.AsyncConnection[Any], batch: list[str]) -> None:
        loop = asyncio.get_running_loop()
        # PostgreSQL delivers identical payloads of one transaction once: a duplicate starts
        # the next transaction (wake-ups, the only routine duplicates, are simply merged).
        chunks: list[list[str]] = [[]]
        seen: set[str] = set()
        for message in batch:
            if message in seen:
                if message.startswith("w|"):
                    continue
                chunks.append([])
                seen = set()
            seen.add(message)
            chunks[-1].append(message)
        # Each statement commits on its own (autocommit): a large message's row is stored
        # before the notification that names it goes out, and one statement's notifications
        # are delivered together, in order, at its commit (no BEGIN and COMMIT round trips).
        for chunk in chunks:
            payloads = []
            for message in chunk:
                data = message.encode()
                if len(data) > self.LIMIT:
                    cur = await conn.execute(
                        "INSERT INTO bus_payloads (body) VALUES (%s) RETURNING id", (data,)
                    )
                    row = await cur.fetchone()
                    assert row is not None
                    message = f"@{row[0]}"
                payloads.append(message)
            await conn.execute(
                "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS m(p, i)"
                " ORDER BY i",
                (self.channel, payloads),
            )
        if loop.time() - self._swept > self.SWEEP_EVERY:
            self._swept = loop.time()
            await conn.execute(
                "DELETE FROM bus_payloads WHERE created_at < now() - interval '10 minutes'"
            )


class RedisPubSub(_Sender):
    """PUBLISH / SUBSCRIBE on a Redis channel named after the database."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url, self.channel = url, channel
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Any = None

    async def start(self, on_message: Callable[[str], None]) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(self.url)
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        self._tasks = [
            asyncio.create_task(self._listen_loop(pubsub, on_message)),
            asyncio.create_task(self._send_loop()),
        ]

    async def stop(self) -> None:
        await self.drain()
        await _cancel(self._tasks)
        if self._client is not None:
            await self._client.aclose()

    async def _listen_loop(self, pubsub: Any, on_message: Callable[[str], None]) -> None:
        import redis.exceptions

        while True:
            try:
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    _deliver(on_message, message["data"].decode())
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except redis.exceptions.RedisError as exc:
                log.warning("bus listener lost Redis (%s); reconnecting", exc)
            await asyncio.sleep(RECONNECT_DELAY)
            with contextlib.suppress(redis.exceptions.RedisError):
                await pubsub.subscribe(self.channel)
                on_message(WAKE)

    async def _send_loop(self) -> None:
        import redis.exceptions

        while True:
            batch = await self.next_batch()
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for message in batch:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except redis.exceptions.RedisError as exc:
                log.warning("bus lost %d messages (%s)", len(batch), exc)
                await asyncio.sleep(RECONNECT_DELAY)


class UnixDatagrams(_Sender):
    """Processes sharing one SQLite file on one machine (`--workers N`): each binds a datagram
    socket in a directory beside the database and sends every message to all the others'.

    Datagrams between two Unix sockets are reliable and keep their order (a full receiver
    makes the sender wait, it never drops). A message larger than one datagram is written to
    a file in that directory and announced as `@<name>`. A socket left by a dead process
    refuses the next send and is removed.
    """

    LIMIT = 60_000
    RCVBUF = 4 * 1024 * 1024
    SWEEP_EVERY = 60.0

    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = directory
        self._sock: socket.socket | None = None
        self._path = ""
        self._task: asyncio.Task[None] | None = None
        self._swept = 0.0

    async def start(self, on_message: Callable[[str], None]) -> None:
        # only this user's processes may wake or cancel its runs (the directory may be in /tmp)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        if os.stat(self.directory).st_uid != os.geteuid():
            raise OSError(f"the bus directory {self.directory} belongs to another user")
        self._path = os.path.join(self.directory, f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RCVBUF)
        sock.bind(self._path)
        sock.setblocking(False)
        self._sock = sock
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), self._readable, sock, on_message)
        self._task = asyncio.create_task(self._send_loop())

    async def stop(self) -> None:
        await self.drain()
        if self._task is not None:
            await _cancel([self._task])
        if self._sock is not None:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            with contextlib.suppress(OSError):
                os.unlink(self._path)

    def _readable(self, sock: socket.socket, on_message: Callable[[str], None]) -> None:
        while True:
            try:
                data = sock.recv(self.LIMIT + 1024)
            except (BlockingIOError, InterruptedError):
                return
            message = data.decode()
            if message.startswith("@"):
                try:
                    with open(os.path.join(self.directory, message[1:]), "rb") as f:
                        message = f.read().decode()
                except OSError:
                    continue  # swept: too old to matter
            _deliver(on_message, message)

    def _peers(self) -> list[str]:
        with os.scandir(self.directory) as entries:
            return [e.path for e in entries if e.name.endswith(".sock") and e.path != self._path]

    async def _send_loop(self) -> None:
        assert self._sock is not None
        while True:
            batch = await self.next_batch()
            peers = self._peers()
            for message in batch:
                data = message.encode()
                if len(data) > self.LIMIT:
                    name = f"{uuid.uuid4().hex}.msg"
                    with open(os.path.join(self.directory, name), "wb") as f:
                        f.write(data)
                    data = f"@{name}".encode()
                for peer in list(peers):
                    if not await self._send_to(data, peer):
                        peers.remove(peer)
            self._sweep()

    async def _send_to(self, data: bytes, peer: str) -> bool:
        """Send one datagram, waiting while the peer's buffer is full; False if the peer is
        gone (its socket is removed) or stuck for 10 s."""
        assert self._sock is not None
        for _ in range(10_000):
            try:
                self._sock.sendto(data, peer)
                return True
            except (BlockingIOError, InterruptedError):
                await asyncio.sleep(0.001)
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    os.unlink(peer)  # its process has died
                return False
        log.warning("bus peer %s has not read for 10 s: message dropped", peer)
        return False

    def _sweep(self) -> None:
        now = time.time()
        if now - self._swept < self.SWEEP_EVERY:
            return
        self._swept = now
        with os.scandir(self.directory) as entries:
            for e in entries:
                if e.name.endswith(".msg") and now - e.stat().st_mtime > 600:
                    with contextlib.suppress(OSError):
                        os.unlink(e.path)
