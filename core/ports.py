"""Free local ports for the stacks that the bench, the chaos run and the tests start on their own."""

import random
import socket
from pathlib import Path

# Linux's default ephemeral range starts at 32768; below it, only what asks for a port by number.
_FLOOR = 20_000


def free_ports(count: int) -> list[int]:
    """Distinct free ports below the kernel's ephemeral range. A port the kernel hands out for
    bind(0) is one it may hand out again, and the Temporal dev server takes several ephemeral ports
    for itself at start (its HTTP API, metrics, internal services): a test's API once found
    Temporal answering on its port (405 to `POST /tickets`)."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    top = max(int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32_768, _FLOOR + 10_000)
    held: list[socket.socket] = []
    try:
        for port in random.sample(range(_FLOOR, top), k=200):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            held.append(s)  # held until all are chosen, so no two are the same
            if len(held) == count:
                return [h.getsockname()[1] for h in held]
        raise RuntimeError(f"no {count} free ports between {_FLOOR} and {top}")
    finally:
        for h in held:
            h.close()


def free_port() -> int:
    return free_ports(1)[0]
