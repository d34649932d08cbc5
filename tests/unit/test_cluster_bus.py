"""ClusterBus between two processes, joined by an in-memory transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from graphport.bus.cluster import ClusterBus
from graphport.events import END


class Loopback:
    """Delivers each message to every other bus on the loop, in order, never to the sender."""

    def __init__(self, hub: list[Loopback]) -> None:
        self.hub = hub
        self.sent: list[str] = []
        self.on_message: Callable[[str], None] | None = None
        hub.append(self)

    async def start(self, on_message: Callable[[str], None]) -> None:
        self.on_message = on_message

    def send(self, message: str) -> None:
        self.sent.append(message)
        for other in self.hub:
            if other is not self and other.on_message is not None:
                asyncio.get_running_loop().call_soon(other.on_message, message)

    async def stop(self) -> None:
        return None


async def pair() -> tuple[ClusterBus, ClusterBus, Loopback, Loopback]:
    hub: list[Loopback] = []
    ta, tb = Loopback(hub), Loopback(hub)
    a, b = ClusterBus(ta), ClusterBus(tb)
    await a.start()
    await b.start()
    return a, b, ta, tb


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_run_end_wakes_waiters_in_the_other_process() -> None:
    a, b, _, _ = await pair()
    waiting = b.wait_done("r1")
    a.open_stream("r1", resumable=False, thread_id="t1")
    a.done("r1", b'{"x":1}')
    assert await asyncio.wait_for(waiting, 1) == b'{"x":1}'


async def test_events_cross_only_while_followed() -> None:
    a, b, ta, _ = await pair()
    a.open_stream("r1", resumable=False, thread_id="t1")
    assert not a.wants_events("r1")
    a.publish("r1", "values", b"{}")
    assert not [m for m in ta.sent if m.startswith("e|")]  # nobody follows: nothing sent
    q = b.subscribe("r1")
    await settle()
    assert a.wants_events("r1")
    sent = a.publish("r1", "values", b'{"n":2}')
    a.done("r1", b"{}")
    await settle()
    got = q.get_nowait()
    assert got is not None and (got.id, got.event, got.data) == (sent.id, "values", b'{"n":2}')
    assert q.get_nowait() is END


async def test_resumable_runs_are_kept_by_every_process() -> None:
    a, b, _, _ = await pair()
    a.open_stream("r1", resumable=True, thread_id="t1")
    first = a.publish("r1", "values", b"1")
    a.publish("r1", "values", b"2")
    a.done("r1", b"{}")
    await settle()
    q = b.subscribe("r1", after=first.seq)
    items = [q.get_nowait(), q.get_nowait()]
    assert items[0] is not None and items[0].data == b"2"
    assert items[1] is END


async def test_thread_followers_get_run_events_and_state_updates() -> None:
    a, b, _, tb = await pair()
    q = b.subscribe_thread("t1")
    await settle()
    a.open_stream("r1", resumable=False, thread_id="t1")
    a.publish("r1", "values", b"v")
    a.publish_thread("t1", "state_update", b"s")
    a.done("r1", b"{}")
    await settle()
    events = [q.get_nowait() for _ in range(3)]
    assert [(e.event, e.data) for e in events if e] == [
        ("values", b"v"),
        ("state_update", b"s"),
        ("metadata", b'{"status":"run_done","run_id":"r1"}'),
    ]
    b.unsubscribe_thread("t1", q)
    assert tb.sent[-1].startswith("u|t1|")
    await settle()
    a.open_stream("r2", resumable=False, thread_id="t1")
    assert not a.wants_events("r2")


async def test_wake_and_cancel_reach_the_other_process_not_the_sender() -> None:
    hub: list[Loopback] = []
    a, b = ClusterBus(Loopback(hub)), ClusterBus(Loopback(hub))
    woken: list[str] = []
    cancelled: list[tuple[str, str]] = []

    class Listener:
        def __init__(self, name: str) -> None:
            self.name = name

        def nudge(self) -> None:
            woken.append(self.name)

        def cancel(self, run_id: str, reason: str) -> bool:
            cancelled.append((run_id, reason))
            return True

    await a.start(Listener("a"))
    await b.start(Listener("b"))
    a.wake_others()
    a.cancel_elsewhere("r9", "rollback")
    await settle()
    assert woken == ["b"]
    assert cancelled == [("r9", "rollback")]


async def test_messages_with_separators_in_their_data_survive() -> None:
    a, b, _, _ = await pair()
    waiting = b.wait_done("r1")
    a.done("r1", b'{"text":"a|b|c"}')
    assert await asyncio.wait_for(waiting, 1) == b'{"text":"a|b|c"}'


async def test_follows_are_forgotten_when_the_run_ends() -> None:
    """Every process hears a follow; each forgets it when the run's end is announced."""
    a, b, _, _ = await pair()
    hub: list[Loopback] = a.transport.hub  # type: ignore[attr-defined]
    c = ClusterBus(Loopback(hub))
    await c.start()
    b.subscribe("r1")
    await settle()
    assert "r1" in a._followed_runs and "r1" in c._followed_runs
    a.open_stream("r1", resumable=False)
    a.done("r1", b"{}")
    await settle()
    assert "r1" not in a._followed_runs and "r1" not in c._followed_runs


async def test_what_dead_processes_followed_is_forgotten() -> None:
    """Follows of a process that stopped heartbeating are dropped: its events go nowhere."""
    a, b, _, _ = await pair()
    b.subscribe_thread("t1")
    b.subscribe("r1")
    await settle()
    a.open_stream("r1", resumable=False, thread_id="t1")
    assert a.wants_events("r1")
    a.keep_only({a.origin, b.origin})
    assert a.wants_events("r1")
    a.keep_only({a.origin})  # b is dead
    assert not a.wants_events("r1")
