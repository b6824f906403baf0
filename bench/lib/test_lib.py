"""Unit tests of bench/run's helpers: `cd bench/lib && python3 -m unittest` (no services)."""
import unittest

from report import verdicts
from upstream import catalog_requests


class UpstreamCount(unittest.TestCase):
    def test_sums_every_catalog_route_and_nothing_else(self):
        metrics = "\n".join([
            "# TYPE http_requests_total counter",
            'http_requests_total{route="/api/products",method="GET",status="200"} 12',
            'http_requests_total{route="/api/products/{id}",method="GET",status="304"} 3',
            'http_requests_total{route="/api/products",method="GET",status="422"} 1',
            'http_requests_total{route="/health",method="GET",status="200"} 40',
            'http_request_duration_seconds_count{route="/api/products",method="GET",status="200"} 12',
        ])
        self.assertEqual(catalog_requests(metrics), 16)


class Targets(unittest.TestCase):
    def test_a_share_of_nginx_static_and_latency_bounds(self):
        run = {"rps": 40_000, "p50_ms": 0.5, "p99_ms": 30.0}
        checks = {name: met for name, _, _, met in verdicts("first page", run, static_rps=60_000)}
        self.assertEqual(checks, {"req/s": True, "p99": False})

    def test_the_common_word_has_three_bounds(self):
        run = {"rps": 1_400, "p50_ms": 10.0, "p99_ms": 50.0}
        checks = {name: met for name, _, _, met in verdicts("common word (q=smoke, 16.7%)", run, 60_000)}
        self.assertEqual(checks, {"p50": True, "p99": True, "req/s": False})

    def test_requests_without_a_target_have_none(self):
        self.assertEqual(verdicts("search q=turntable", {"rps": 1, "p99_ms": 1}, 1), [])

    def test_a_missing_figure_does_not_meet_its_target(self):
        self.assertFalse(verdicts("rare word", {"p99_ms": None}, 1)[0][3])


if __name__ == "__main__":
    unittest.main()
