"""The RESP client: the reply parser on crafted bytes, then against a real redis-server of its
own (never the shared one)."""

import io
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from resp import NotSent, RedisReplyError, Resp, encode, pairs, read_reply


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Parser(unittest.TestCase):
    def parse(self, data: bytes):
        return read_reply(io.BytesIO(data))

    def test_every_reply_type(self):
        self.assertEqual(self.parse(b"+OK\r\n"), "OK")
        self.assertEqual(self.parse(b":42\r\n"), 42)
        self.assertEqual(self.parse(b"$5\r\nhe\r\no\r\n"), "he\r\no")
        self.assertIsNone(self.parse(b"$-1\r\n"))
        self.assertIsNone(self.parse(b"*-1\r\n"))
        self.assertEqual(self.parse(b"*2\r\n*1\r\n:1\r\n$0\r\n\r\n"), [[1], ""])
        with self.assertRaises(RedisReplyError):
            self.parse(b"-ERR wrong\r\n")

    def test_a_cut_reply_is_a_connection_error(self):
        for data in (b"", b"$5\r\nab", b"+OK"):
            with self.assertRaises(ConnectionError):
                self.parse(data)

    def test_encoding(self):
        self.assertEqual(encode(["SET", "k", 1]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n")


@unittest.skipUnless(shutil.which("redis-server"), "needs redis-server")
class AgainstRedis(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="resp-test.")
        cls.port = free_port()
        cls.server = subprocess.Popen(
            ["redis-server", "--port", str(cls.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", cls.dir], stdout=subprocess.DEVNULL)
        cls.redis = Resp(cls.port)
        deadline = time.monotonic() + 10
        while not cls.redis.ping():
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        cls.server.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_streams_round_trip(self):
        first = self.redis("XADD", "s", "*", "event_id", "e1", "payload", '{"a": "ü"}')
        self.redis("XGROUP", "CREATE", "s", "g", "0")
        [[entry_id, fields]] = self.redis("XRANGE", "s", "-", "+")
        self.assertEqual(entry_id, first)
        self.assertEqual(pairs(fields), {"event_id": "e1", "payload": '{"a": "ü"}'})
        [group] = self.redis("XINFO", "GROUPS", "s")
        self.assertEqual(pairs(group)["name"], "g")

    def test_errors_nil_and_scan(self):
        with self.assertRaises(RedisReplyError):
            self.redis("XINFO", "STREAM", "missing")
        self.assertIsNone(self.redis("GET", "missing"))
        for i in range(30):
            self.redis("SET", f"scan:{i}", i)
        self.assertEqual(len(self.redis.scan("scan:*")), 30)

    def test_a_closed_port_is_not_sent(self):
        with self.assertRaises(NotSent):
            Resp(free_port())("PING")


if __name__ == "__main__":
    unittest.main()
