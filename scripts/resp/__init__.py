"""A minimal Redis client, standard library only: one command per connection, RESP2 replies as
Python values. Shared by the fault-injection harness (chaos/harness) and the benchmark's sampler
(bench/lib/sampler.py), which both reach it through `scripts/` on `sys.path`."""

from __future__ import annotations

import socket


class RedisReplyError(RuntimeError):
    """Redis answered with an error (`-ERR ...`)."""


class NotSent(ConnectionError):
    """The command certainly did not reach Redis (the connection could not be opened)."""


def encode(args) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def read_reply(reader):
    """Reads one reply from a binary file object: simple strings and bulk strings as str, integers
    as int, nil as None, arrays as lists; an error reply raises RedisReplyError."""
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("redis closed the connection mid-reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisReplyError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)
        if len(data) != n + 2:
            raise ConnectionError("redis closed the connection mid-reply")
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        if n < 0:
            return None
        return [read_reply(reader) for _ in range(n)]
    raise ConnectionError(f"unexpected redis reply {line!r}")


class Resp:
    """`Resp(port)("XADD", key, "*", "f", "v")`. Raises NotSent when the connection cannot be
    opened (nothing was sent), RedisReplyError on an error reply, and another OSError or
    ConnectionError when the outcome is unknown."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10):
        self.host, self.port, self.timeout = host, port, timeout

    def __call__(self, *args):
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise NotSent(f"redis :{self.port}: {error}") from error
        with sock:
            sock.sendall(encode(args))
            with sock.makefile("rb") as reader:
                return read_reply(reader)

    def ping(self) -> bool:
        try:
            return self("PING") == "PONG"
        except (OSError, RedisReplyError):
            return False

    def scan(self, pattern: str) -> list[str]:
        """Every key matching `pattern` (SCAN, so never blocks the server)."""
        cursor, keys = "0", []
        while True:
            cursor, batch = self("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            keys += batch
            if cursor == "0":
                return keys


def pairs(flat) -> dict:
    """A flat [k1, v1, k2, v2, ...] reply as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
