"""`--workers N` on Linux: the supervisor holds the port, each worker listens on a socket of its
own (SO_REUSEPORT), made when the supervisor's socket reaches it through multiprocessing."""

from __future__ import annotations

import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

from graphport.listening import SPREADS_CONNECTIONS, supervisor_socket

pytestmark = pytest.mark.skipif(not SPREADS_CONNECTIONS, reason="SO_REUSEPORT spreads on Linux")


def _probe() -> socket.socket:
    """A socket bound as uvicorn's `Config.bind_socket` binds it (SO_REUSEADDR, no listen)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _as_a_worker_receives_it(sock: socket.socket) -> socket.socket:
    copy = pickle.loads(ForkingPickler.dumps(sock))
    assert isinstance(copy, socket.socket)
    return copy


def test_the_supervisor_holds_the_port_without_taking_connections() -> None:
    probe = _probe()
    address = probe.getsockname()
    held = supervisor_socket(probe)
    try:
        assert probe.fileno() == -1  # closed: its bind was only the check
        assert held.getsockname() == address
        with socket.socket() as other, pytest.raises(OSError):  # no other server gets the port
            other.bind(address)
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(address)  # it never listens, so no connection waits on it
    finally:
        held.close()


def test_each_worker_listens_on_a_socket_of_its_own() -> None:
    held = supervisor_socket(_probe())
    workers = [_as_a_worker_receives_it(held) for _ in range(2)]
    try:
        address = held.getsockname()
        for sock in workers:
            assert sock.fileno() != held.fileno()
            assert sock.getsockname() == address
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            sock.listen()
        clients = [socket.create_connection(address) for _ in range(64)]
        accepted = []
        for sock in workers:
            sock.setblocking(False)
            count = 0
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        for client in clients:
            client.close()
        # every connection reached one of the workers, and the kernel gave each some
        # (by the hash of 64 source ports: all on one would be a 1 in 2**63 chance)
        assert sum(accepted) == 64 and min(accepted) > 0, accepted
    finally:
        for sock in (*workers, held):
            sock.close()
