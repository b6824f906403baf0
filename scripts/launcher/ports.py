"""Free listening ports, and whether a port is taken."""

import random
import socket


def ephemeral_low(path="/proc/sys/net/ipv4/ip_local_port_range"):
    with open(path) as handle:
        return int(handle.read().split()[0])


def free_ports(count, low=None):
    """`count` distinct free ports below the kernel's ephemeral range (ip_local_port_range), so
    that no outgoing connection of the services (pools to PostgreSQL and Redis) can take one
    between its choice here and the listener's bind; every socket stays bound until all are
    chosen."""
    low = ephemeral_low() if low is None else low
    socks = []
    try:
        while len(socks) < count:
            s = socket.socket()
            try:
                s.bind(("0.0.0.0", random.randrange(max(1024, low - 12000), low)))
                socks.append(s)
            except OSError:
                s.close()
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def in_use(port, host="127.0.0.1"):
    """Whether something accepts connections on `port`."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0
