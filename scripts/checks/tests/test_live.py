"""k8s-policy and k8s-resources on rendered manifests; rate-limit against a small HTTP server."""

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from checks.k8s import cmd_k8s_policy, cmd_k8s_resources
from checks.rate_limit import cmd_rate_limit
from checks.tests.fixtures import Repo

GOOD_CONTAINER = {
    "name": "app", "image": "example/products-service:v1",
    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
    "readinessProbe": {"httpGet": {"path": "/ready"}}, "livenessProbe": {"httpGet": {"path": "/health"}},
    "startupProbe": {"httpGet": {"path": "/health"}},
}


def deployment(container, unavailable=0):
    return {"kind": "Deployment", "metadata": {"name": "products-service"},
            "spec": {"strategy": {"rollingUpdate": {"maxUnavailable": unavailable}},
                     "template": {"spec": {"containers": [container]}}}}


class K8s(Repo):
    def check(self, *docs, overlay="local"):
        path = self.write("rendered.yaml", "\n---\n".join(json.dumps(d) for d in docs))
        return self.run_check(cmd_k8s_policy, path, "k8s/overlays/x/kustomization.yaml", overlay)

    SERVICE = {"kind": "Service", "metadata": {"name": "products-service"}}
    SECRET = {"kind": "Secret", "metadata": {"name": "marketplace-database"}}

    def test_a_deployment_keeping_the_policies_passes(self):
        self.assertClean(self.check(deployment(GOOD_CONTAINER), self.SERVICE, self.SECRET))

    def test_missing_probes_resources_and_an_unpinned_image_are_reported(self):
        bad = {"name": "app", "image": "example/products-service:latest"}
        result = self.check(deployment(bad, unavailable=1), self.SECRET)
        for text in ("image example/products-service:latest is not pinned", "has no cpu and memory requests",
                     "has no memory limit", "has no readinessProbe", "maxUnavailable must be 0",
                     "Deployment/products-service has no Service of its name"):
            self.assertProblem(result, text)

    def test_an_undefined_configmap_key_and_a_committed_production_secret_are_reported(self):
        container = dict(GOOD_CONTAINER, env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "x"}}}])
        result = self.check(deployment(container), self.SERVICE, self.SECRET,
                            {"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"y": "1"}}, overlay="production")
        self.assertProblem(result, "reads ConfigMap cfg key x, which is not defined")
        self.assertProblem(result, "production secrets are created in the cluster, never committed")

    def test_resources_lists_the_files_a_kustomization_names(self):
        self.write("k8s/base/kustomization.yaml", "resources:\n  - a.yaml\n  - missing.yaml\n  - ../other\n")
        self.write("k8s/base/a.yaml", "kind: Service\n")
        count, output = self.run_check(cmd_k8s_resources, self.root / "k8s/base")
        self.assertEqual(output.split(), [str(self.root / "k8s/base/a.yaml")])


class Limiter(BaseHTTPRequestHandler):
    """Serves `burst` API requests per address, then 429s until a second has passed since the
    last 429; `body` is the 429's."""

    burst = 5
    body = b'{"error": {"code": "rate_limited", "message": "slow down"}}'
    content_type = "application/json"
    state = {}
    lock = threading.Lock()

    def do_GET(self):
        address = self.client_address[0]
        with self.lock:
            served, limited_at = self.state.get(address, (0, None))
            if limited_at is not None and time.monotonic() - limited_at >= 1:
                served, limited_at = 0, None
            allowed = not self.path.startswith("/api/") or served < self.burst
            if self.path.startswith("/api/"):
                served += allowed
                limited_at = limited_at if allowed else time.monotonic()
            self.state[address] = (served, limited_at)
        if allowed:
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        self.send_response(429)
        self.send_header("content-type", self.content_type)
        self.send_header("retry-after", "1")
        self.send_header("x-content-type-options", "nosniff")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


class RateLimit(Repo):
    def serve(self, handler):
        handler.state = {}
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def test_a_limit_answered_as_promised_passes(self):
        base = self.serve(Limiter)
        self.assertClean(self.run_check(cmd_rate_limit, base, 1, 5, "docker-compose.yml"))

    def test_a_429_without_the_json_error_body_is_reported(self):
        class PlainLimiter(Limiter):
            body = b"<html>429</html>"
            content_type = "text/html"
        result = self.run_check(cmd_rate_limit, self.serve(PlainLimiter), 1, 5, "docker-compose.yml")
        self.assertProblem(result, "a rate-limited answer is not the JSON error body with code rate_limited")
        self.assertProblem(result, "a rate-limited answer has content type 'text/html'")

    def test_a_limit_that_serves_less_than_the_burst_is_reported(self):
        class Stingy(Limiter):
            burst = 2
        self.assertProblem(self.run_check(cmd_rate_limit, self.serve(Stingy), 1, 5, "x.yml"),
                           "searches were served: a burst of 5 should be")


if __name__ == "__main__":
    unittest.main()
