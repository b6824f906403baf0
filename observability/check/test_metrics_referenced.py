"""Tests of metrics_referenced.py: python3 -m unittest discover observability/check"""
import tempfile
import unittest
from pathlib import Path

from metrics_referenced import check, exported_metrics, metric_names


class MetricNames(unittest.TestCase):
    def test_functions_labels_ranges_and_grouping_are_not_metrics(self):
        expr = ('histogram_quantile(0.99, sum by (job, route, le) '
                '(rate(http_request_duration_seconds_bucket{job=~"$service",status="5.."}[$__rate_interval])))')
        self.assertEqual(metric_names(expr), {"http_request_duration_seconds_bucket"})

    def test_both_sides_of_a_binary_operation_and_unless_on(self):
        expr = ("max by (job) (stream_outbox_unpublished) > 0 unless on (job) "
                "sum by (job) (increase(stream_outbox_published_total[5m])) > 0")
        self.assertEqual(metric_names(expr), {"stream_outbox_unpublished", "stream_outbox_published_total"})

    def test_a_grafana_variable_query_names_its_metric(self):
        self.assertEqual(metric_names("label_values(build_info, job)"), {"build_info"})


class Check(unittest.TestCase):
    def test_a_dashboard_naming_an_unexported_metric_is_reported_with_its_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "svc/src").mkdir(parents=True)
            (root / "svc/src/lib.rs").write_text(
                'fn f() { metrics::counter!("orders_placed_total").increment(1);\n'
                'metrics::histogram!(\n  "http_request_duration_seconds", &l).record(1.0); }\n'
                '#[cfg(test)]\nmod tests {\n fn g() { metrics::counter!("only_in_tests_total"); }\n}\n')
            (root / "observability/grafana/dashboards").mkdir(parents=True)
            (root / "observability/prometheus").mkdir(parents=True)
            (root / "observability/grafana/dashboards/d.json").write_text(
                '{"uid": "d", "title": "d", "panels": [\n{"targets": [{"expr": "rate(orders_placed_total[5m])"}]},\n'
                '{"targets": [{"expr": "rate(http_request_duration_seconds_count[5m]) + only_in_tests_total"}]}]}')
            (root / "observability/prometheus/alerts.yml").write_text(
                "groups:\n  - rules:\n      - alert: A\n        expr: |\n          up == 0\n            or stream_length > 5\n")

            self.assertEqual(set(exported_metrics(root)), {"orders_placed_total", "http_request_duration_seconds"})
            problems, _, _ = check(root)
            self.assertEqual(len(problems), 2, problems)
            self.assertTrue(problems[0].startswith("observability/grafana/dashboards/d.json:3: only_in_tests_total"), problems)
            self.assertTrue(problems[1].startswith("observability/prometheus/alerts.yml:4: stream_length"), problems)


if __name__ == "__main__":
    unittest.main()
