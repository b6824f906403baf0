"""harness.hangup against a local TCP server: a request reset before its answer is abandoned,
one answered first is not, a closed port is refused."""

import contextlib
import socket
import threading
import time
import unittest

from harness import hangup


class SlowServer:
    """Accepts connections; answers each request `delay` seconds after reading it."""

    def __init__(self, delay: float):
        self.delay = delay
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.requests.append(conn.recv(65536))
                time.sleep(self.delay)
                with contextlib.suppress(OSError):  # the client hung up
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


class HangUp(unittest.TestCase):
    def test_a_request_reset_before_its_answer_is_abandoned(self):
        server = SlowServer(delay=0.5)
        self.addCleanup(server.close)
        request = hangup.encode("GET", server.url, hangup.SEARCH, {}, None)
        self.assertEqual(hangup.hang_up(server.url, request, after=0.01), "abandoned")
        self.assertTrue(server.requests[0].startswith(b"GET /api/products?q=chaos"))

    def test_a_request_answered_first_is_not(self):
        server = SlowServer(delay=0)
        self.addCleanup(server.close)
        request = hangup.encode("POST", server.url, "/api/orders", {"idempotency-key": "k"}, {"items": []})
        self.assertEqual(hangup.hang_up(server.url, request, after=0.3), "answered")
        head, body = server.requests[0].split(b"\r\n\r\n", 1)
        self.assertIn(b"idempotency-key: k", head)
        self.assertIn(b"content-length: %d" % len(body), head)

    def test_a_closed_port_is_refused(self):
        sock = socket.create_server(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        sock.close()
        self.assertEqual(hangup.hang_up(url, b"GET / HTTP/1.1\r\n\r\n", after=0), "refused")
