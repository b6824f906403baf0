"""Clients that hang up mid-request (fault `hangups`): for a few seconds, catalog searches (each
runs in a read-only transaction on products-service) and order POSTs are sent on fresh
connections that are reset a few milliseconds later, so requests are abandoned at every point of
their work, BEGIN included (sqlx's `Pool::begin` is not cancel-safe: a BEGIN cut short used to
leave its transaction on a pooled connection, and the next borrower ran inside it).

What must hold afterwards is checked elsewhere: no service logs the signature of a transaction left
on a pooled connection (conduct.no_leaked_transactions), and every abandoned POST, sent again by the
workload with the same Idempotency-Key, is one order the buyer knows (the invariants count orders
against what the client was told)."""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass

# A text search: counted and listed inside `BEGIN READ ONLY` (the catalog's bitmap access).
SEARCH = "/api/products?q=chaos&sort=price_asc"
SECONDS = 3.0  # length of a burst
OVERTIME = 12.0  # how much longer it goes on while no search or no POST was abandoned yet (a kill)
CLIENTS = 4  # connections hanging up at the same time
LONGEST_WAIT = 0.02  # a request is reset at a random point of its first 20 ms


@dataclass
class Burst:
    """What one burst did. A request is `abandoned` when no byte of its answer had arrived when its
    connection was reset, `answered` when the answer came first, `refused` when the service was down
    (a kill in the same phase)."""
    searches: int = 0
    posts: int = 0
    abandoned_searches: int = 0
    abandoned_posts: int = 0
    answered: int = 0
    refused: int = 0

    def describe(self) -> str:
        return (f"{self.abandoned_searches} of {self.searches} searches and {self.abandoned_posts} of "
                f"{self.posts} order POSTs abandoned mid-request ({self.answered} answered first, "
                f"{self.refused} refused)")


def encode(method: str, url: str, path: str, headers: dict[str, str], body: dict | None) -> bytes:
    """One HTTP/1.1 request, ready to send."""
    data = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"host: {urllib.parse.urlsplit(url).netloc}", "connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def hang_up(url: str, request: bytes, after: float) -> str:
    """Sends `request` on a new connection and resets it (RST, not FIN) `after` seconds later:
    'abandoned', 'answered' (a byte of the answer had arrived), or 'refused'."""
    parts = urllib.parse.urlsplit(url)
    try:
        sock = socket.create_connection((parts.hostname, parts.port), timeout=2)
    except OSError:
        return "refused"
    try:
        sock.sendall(request)
    except OSError:
        sock.close()
        return "refused"
    answered = False
    try:
        time.sleep(after)
        sock.setblocking(False)
        answered = bool(sock.recv(1))
    except OSError:  # BlockingIOError: nothing yet; or the service went away meanwhile
        pass
    finally:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            sock.close()
    return "answered" if answered else "abandoned"


def burst(stack, workload, rng: random.Random) -> Burst:
    """`CLIENTS` threads for `SECONDS` (longer, up to `OVERTIME`, until a search and a POST were
    abandoned): three searches for each POST. Each POST that was sent is handed to the workload,
    which sends it again with its key and follows the order like any other."""
    result = Burst()
    lock = threading.Lock()
    began = time.monotonic()

    def going() -> bool:
        now = time.monotonic()
        if now < began + SECONDS:
            return True
        with lock:
            both = result.abandoned_searches > 0 and result.abandoned_posts > 0
        return not both and now < began + SECONDS + OVERTIME
    seeds = [rng.randrange(1 << 30) for _ in range(CLIENTS)]

    def client(seed: int) -> None:
        local = random.Random(seed)
        while going():
            buyer = local.choice(workload.buyers)
            after = local.uniform(0, LONGEST_WAIT)
            if local.random() < 0.75:
                url = stack.url["products"]
                outcome = hang_up(url, encode("GET", url, SEARCH, {}, None), after)
                post = None
            else:
                url = stack.url["orders"]
                lines, key = workload.choose_lines(local), str(uuid.uuid4())
                body = {"items": [{"product_id": p, "quantity": q} for p, q in lines]}
                headers = {"authorization": f"Bearer {buyer['token']}", "idempotency-key": key}
                outcome = hang_up(url, encode("POST", url, "/api/orders", headers, body), after)
                post = (buyer, lines, key)
            with lock:
                if post is None:
                    result.searches += 1
                    result.abandoned_searches += outcome == "abandoned"
                else:
                    result.posts += 1
                    result.abandoned_posts += outcome == "abandoned"
                result.answered += outcome == "answered"
                result.refused += outcome == "refused"
            if post is not None and outcome != "refused":
                # Sent, so it may have placed the order: the buyer tries again with the same key.
                workload.resume(local, *post)
            time.sleep(local.uniform(0.005, 0.02))

    threads = [threading.Thread(target=client, args=(seed,), daemon=True) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result
