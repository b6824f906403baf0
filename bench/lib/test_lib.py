"""Unit tests of bench/run's helpers: `cd bench/lib && python3 -m unittest` (no services)."""
import os
import tempfile
import unittest

from catalog_report import verdicts
from checks import orders_told, server_errors, verdict
from orders_report import commits_by_database, cpu_use, statements_section
from phases import pace
from procs import others
from perf_top import top_symbols
from report import MARKER, kept_analysis
from targets import commits_per_order, e2e_rate, headline
from upstream import catalog_requests
from wrk import parse

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:1/api/orders
  1 threads and 4 connections
  Latency Distribution
     50%    3.10ms
     99%   12.50ms
  812 requests in 2.00s, 1.10MB read
  Non-2xx or 3xx responses: 2
  Socket errors: connect 0, read 0, write 0, timeout 1
Requests/sec:    406.00
ORDERS ok=810 other=2 server_errors=1 codes=503 422 422
"""


class Wrk(unittest.TestCase):
    def test_the_lua_summary_line_gives_oks_and_server_errors(self):
        run = parse(WRK_OUTPUT, "orders", "sustained", "u", "0.5")
        self.assertEqual((run["ok"], run["other"], run["server_errors"], run["codes"]), (810, 2, 1, "422 503"))
        self.assertEqual((run["rps"], run["p50_ms"], run["p99_ms"], run["seconds"]), (406.0, 3.1, 12.5, 2.0))
        self.assertEqual((run["socket_errors"], run["timeouts"], run["non2xx"]), (1, 1, 2))
        self.assertEqual(run["connections"], 4)


class Pace(unittest.TestCase):
    def test_a_connection_per_twenty_requests_a_second_within_bounds(self):
        self.assertEqual(pace(450.0), (23, 450.0))
        self.assertEqual(pace(3.0), (2, 3.0))
        self.assertEqual(pace(5000.0), (64, 5000.0))


def phase(name, **kw):
    base = {"kind": "phase", "name": name, "placed": 100, "confirmed": 100, "rejected": 0, "pending": 0,
            "first_post": 1000.0, "last_post": 1009.0, "last_confirmed": 1010.0, "start": 999.0, "end": 1009.5,
            "drained_at": 1011.0, "load": 0.2, "queries": 4, "p50_confirm_ms": 8.0, "p99_confirm_ms": 40.0}
    return {**base, **kw}


def http(label, **kw):
    return {"kind": "wrk", "group": "orders", "label": label, "ok": 100, "other": 0, "server_errors": 0,
            "timeouts": 0, "non2xx": 0, "seconds": 10.0, "rps": 10.0, "p50_ms": 1.0, "p99_ms": 2.0, "load": 0.1,
            "url": "u", "codes": "", **kw}


class Headline(unittest.TestCase):
    def test_commits_per_order_leave_out_the_benchs_own_queries(self):
        figs = [{"kind": "commits", "name": "sustained before", "t": 0, "orders": 1000, "products": 500},
                {"kind": "commits", "name": "sustained after", "t": 30, "orders": 1200, "products": 600},
                phase("sustained", queries=10)]
        samples = [{"t": t} for t in range(0, 40, 1)]  # 31 inside the window: 2 commits each
        self.assertEqual(commits_per_order(figs, samples), (300 - 62 - 10, 100))

    def test_end_to_end_runs_from_the_first_post_to_the_last_confirmation(self):
        self.assertEqual(e2e_rate(phase("x", confirmed=500, first_post=10.0, last_confirmed=15.0)), 100.0)
        self.assertIsNone(e2e_rate(phase("x", last_confirmed=None)))

    def test_each_target_is_judged_and_missing_figures_miss(self):
        figs = [{"kind": "pgbench", "tps": 1000.0}, phase("sustained", confirmed=4000, first_post=0.0, last_confirmed=10.0),
                http("sustained", ok=20000, seconds=10.0),
                {"kind": "memory", "name": "idle", "load": 0.1, "rss_kb": {"auth": 20000, "products": 40000}},
                {"kind": "check", "name": "c", "ok": True, "detail": ""}]
        rows = {r["figure"]: r["met"] for r in headline(figs, [{"t": 0, "rss_kb": {"orders": 50000}}])}
        self.assertTrue(rows["Orders placed over HTTP (201/s, POST /api/orders via nginx), sustained"])
        self.assertFalse(rows["Orders confirmed end to end, sustained"])  # 400/s
        self.assertTrue(rows["Confirmed/s ÷ same-run pgbench tps"])  # 40 %
        self.assertFalse(rows["POST -> CONFIRMED at half the sustained rate, p99 (p50)"])  # not run
        self.assertTrue(rows["auth-service memory idle (VmRSS)"])  # 20.5 MB
        self.assertFalse(rows["products-service memory idle (VmRSS)"])  # 41 MB
        self.assertFalse(rows["orders-service memory idle (VmRSS)"])  # not measured
        self.assertTrue(rows["orders-service memory under load (max VmRSS)"])
        self.assertTrue(rows["Correctness checks while loading (below)"])


class Checks(unittest.TestCase):
    def test_an_order_answered_201_but_missing_from_the_database_fails(self):
        figs = [phase("sustained", placed=3), http("sustained", ok=3)]
        ids = {"db": {"a", "b"}, "sustained": {"a", "b", "c"}}
        self.assertFalse(orders_told(figs, ids)[0]["ok"])
        ids["db"].add("c")
        self.assertTrue(orders_told(figs, ids)[0]["ok"])

    def test_more_rows_than_answers_pass_only_within_the_answers_wrk_cannot_see(self):
        ids = {"db": {"a", "b", "c", "d"}, "sustained": {"a", "b"}}
        figs = [phase("sustained", placed=4)]
        self.assertFalse(orders_told(figs + [http("sustained", ok=2, connections=1)], ids)[0]["ok"])
        self.assertTrue(orders_told(figs + [http("sustained", ok=2, connections=1, timeouts=1)], ids)[0]["ok"])

    def test_an_order_left_pending_fails(self):
        ids = {"db": {"a"}, "sustained": {"a"}}
        self.assertFalse(orders_told([phase("sustained", placed=1, pending=1), http("sustained", ok=1)], ids)[0]["ok"])

    def test_the_race_is_checked_from_its_own_answers(self):
        figs = [phase("race", placed=2), {"kind": "race", "codes": {"201": 2, "422": 1}, "ids": ["a", "b"]}]
        self.assertTrue(orders_told(figs, {"db": {"a", "b"}})[0]["ok"])

    def test_a_5xx_anywhere_fails(self):
        self.assertTrue(server_errors([http("sustained")])["ok"])
        self.assertFalse(server_errors([http("sustained", server_errors=1)])["ok"])
        self.assertFalse(server_errors([{"kind": "race", "codes": {"201": 1, "502": 1}}])["ok"])
        self.assertFalse(server_errors([{"kind": "race", "codes": {"error: URLError": 1}}])["ok"])

    def test_the_verdict_fails_on_a_failed_check_or_on_none(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "f.jsonl")
            for lines, code in ([], 1), (['{"kind":"check","name":"a","ok":true,"detail":""}'], 0), \
                    (['{"kind":"check","name":"a","ok":true,"detail":""}', '{"kind":"check","name":"b","ok":false,"detail":""}'], 1):
                with open(path, "w") as f:
                    f.write("\n".join(lines) + "\n")
                self.assertEqual(verdict(path), code)


class Report(unittest.TestCase):
    def test_the_hand_written_part_below_the_marker_is_kept(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "RESULTS.md")
            with open(path, "w") as f:
                f.write("# old generated tables\n\n" + MARKER + "\n\n## Analysis\n\nBy hand.\n")
            self.assertEqual(kept_analysis(path), MARKER + "\n\n## Analysis\n\nBy hand.\n")

    def test_a_file_without_the_marker_gets_it_and_a_placeholder(self):
        self.assertTrue(kept_analysis("/nonexistent/RESULTS.md").startswith(MARKER))

    def test_statements_per_order_are_shown_only_when_the_server_counted_them(self):
        figs = [{"kind": "commits", "name": "sustained before", "t": 0, "orders": 1000, "products": 500},
                {"kind": "commits", "name": "sustained after", "t": 30, "orders": 1200, "products": 600},
                phase("sustained", queries=10)]
        samples = [{"t": t} for t in range(0, 40, 1)]  # 31 inside the window: 1 commit per database each
        self.assertEqual(commits_by_database(figs, samples), {"orders": 200 - 31 - 10, "products": 100 - 31})
        self.assertEqual(statements_section(figs + [{"kind": "statements", "name": "read", "available": False}],
                                            samples), [])
        read = {"kind": "statements", "name": "read", "available": True,
                "rows": [{"db": "orders", "calls": 300, "rows": 300, "query": "INSERT INTO a | b"},
                         {"db": "products", "calls": 50, "rows": 0, "query": "COMMIT"}]}
        text = "\n".join(statements_section(figs + [read], samples))
        self.assertIn("| orders | 1.59 | 3.00 |", text)
        self.assertIn("| products | 0.69 | 0.50 |", text)
        self.assertIn("| orders | 300 | 3.000 | 300 | `INSERT INTO a \\| b` |", text)

    def test_cpu_counts_processes_alive_at_both_ends_of_each_second(self):
        samples = [{"t": 0, "cpu": {"orders": {"1": 10.0}, "machine busy": {"all": 100.0}}},
                   {"t": 1, "cpu": {"orders": {"1": 10.5, "2": 3.0}, "machine busy": {"all": 101.5}}},
                   {"t": 2, "cpu": {"orders": {"1": 11.0, "2": 3.5}, "machine busy": {"all": 103.0}}}]
        use = cpu_use(samples)
        self.assertAlmostEqual(use["orders"], 0.75)
        self.assertAlmostEqual(use["everything else"], 0.75)

    def test_other_programs_are_those_not_run_by_the_bench(self):
        busy = others({"cargo": 1.0, "wrk": 0.0}, {"cargo": 11.0, "wrk": 5.0, "rustc": 20.0}, 10.0)
        self.assertEqual(busy, [("rustc", 2.0), ("cargo", 1.0)])


class Profile(unittest.TestCase):
    def test_only_the_sample_lines_of_perf_report_are_kept(self):
        text = "# Samples: 93\n#\n    21.51%  libpython3.so  [.] _PyObject_Free\n\n     6.45%  x  [k] y\n"
        self.assertEqual(top_symbols(text, 1), ["    21.51%  libpython3.so  [.] _PyObject_Free"])


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


class CatalogTargets(unittest.TestCase):
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
