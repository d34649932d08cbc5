"""The listening sockets of `--workers N`: on Linux, one per process on the one port.

uvicorn's supervisor binds one socket and every worker accepts from it. Whichever process is
awake when a burst of connections arrives accepts most of them, and keep-alive connections (a
proxy's pool, a benchmark's clients) stay where they landed: with 32 connections on two
processes the splits measured ranged from 29/3 to 4/28, so one core did most of the work. With
SO_REUSEPORT each process listens on a socket of its own and the kernel spreads new connections
over them by their addresses' hash.

The supervisor still binds first (a taken port is uvicorn's one line and exit 3), but never
listens: its socket only holds the address. Each worker receives that socket from
multiprocessing by pickling, and `PortPerProcess.__reduce__` makes the worker's copy a new
socket of its own, bound to the same address with SO_REUSEPORT (a worker that replaces a dead
one gets a new one too). Elsewhere than Linux SO_REUSEPORT does not spread connections, and the
one shared socket is kept.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

SPREADS_CONNECTIONS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class PortPerProcess(socket.socket):
    """A bound socket that is never listened on; unpickled, it is a new socket on its address."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (bind_reusing_port, (self.family, self.getsockname()))


def bind_reusing_port(family: int, address: Any, cls: type[socket.socket] = socket.socket) -> Any:
    """A TCP socket bound to `address` with SO_REUSEPORT (every socket of the group sets it, and
    only processes of the same user can join: the kernel's rules)."""
    sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def supervisor_socket(probe: socket.socket) -> socket.socket:
    """What the supervisor hands its workers, given uvicorn's bound socket `probe`.

    `probe` was bound without SO_REUSEPORT, so binding it proved that no other server holds the
    port (not even another graphport, whose sockets do set it); it is closed and the address
    bound again, this time so that the workers can join it."""
    if not SPREADS_CONNECTIONS:
        return probe
    family, address = probe.family, probe.getsockname()
    probe.close()
    sock: PortPerProcess = bind_reusing_port(family, address, PortPerProcess)
    return sock
