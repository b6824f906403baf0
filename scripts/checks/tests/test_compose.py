"""compose and workflow-schema: the schema and the deployment policies, on small compose files."""

import json
import unittest

from checks.compose import cmd_compose, cmd_workflow_schema
from checks.tests.fixtures import Repo


def hardened(**extra):
    return {
        "image": "example/app:1.0", "restart": "unless-stopped",
        "healthcheck": {"test": ["CMD", "true"]}, "security_opt": ["no-new-privileges:true"],
        "cap_drop": ["ALL"], "read_only": True, **extra,
    }


def stack():
    """A compose file's data that keeps every policy."""
    store = {"volumes": ["data:/data"], "networks": ["back"]}
    return {
        "services": {
            "redis": hardened(image="redis:7.2", command=["redis-server", "--appendonly", "yes", "--maxmemory",
                                                          "64mb", "--maxmemory-policy", "noeviction"], **store),
            **{db: hardened(image="postgres:17.2", **store) for db in ("db_auth", "db_products", "db_orders")},
            "auth-service": hardened(depends_on={"redis": {"condition": "service_healthy"}}),
            "products-service": hardened(),
            "orders-service": hardened(),
            "frontend": hardened(ports=["8080:8080"]),
        },
        "networks": {"back": {"internal": True}},
        "volumes": {"data": {}},
    }


class Compose(Repo):
    def compose(self, data, production="local"):
        self.write("docker-compose.yml", json.dumps(data, indent=2))
        return self.run_check(cmd_compose, self.root / "docker-compose.yml", "docker-compose.yml", production)

    def test_a_compose_file_keeping_every_policy_passes(self):
        self.assertClean(self.compose(stack()))

    def test_an_unpinned_image_is_reported(self):
        data = stack()
        data["services"]["redis"]["image"] = "redis:latest"
        result = self.compose(data)
        self.assertProblem(result, "image redis:latest is not pinned to a version")
        self.assertProblem(result, "redis must be pinned to 7.0 or later")

    def test_a_service_without_a_health_check_is_reported_at_its_line(self):
        data = stack()
        del data["services"]["orders-service"]["healthcheck"]
        count, output = self.compose(data)
        line = next(n for n, text in enumerate((self.root / "docker-compose.yml").read_text().splitlines(), 1)
                    if '"orders-service"' in text)
        self.assertIn(f"docker-compose.yml:{line}: service orders-service has no healthcheck", output)

    def test_only_the_edge_may_publish_a_port(self):
        data = stack()
        data["services"]["auth-service"]["ports"] = ["3030:3030"]
        self.assertProblem(self.compose(data), "service auth-service publishes a port: only frontend may")

    def test_a_missing_hardening_setting_is_reported(self):
        data = stack()
        data["services"]["frontend"]["cap_add"] = ["SYS_ADMIN"]
        data["services"]["frontend"]["read_only"] = False
        result = self.compose(data)
        self.assertProblem(result, "service frontend adds capability SYS_ADMIN")
        self.assertProblem(result, "service frontend lacks read_only: true")

    def test_depends_on_without_a_condition_is_reported(self):
        data = stack()
        data["services"]["auth-service"]["depends_on"] = ["redis"]
        self.assertProblem(self.compose(data), "depends_on needs condition: service_healthy")

    def test_redis_without_a_memory_limit_is_reported(self):
        data = stack()
        data["services"]["redis"]["command"] = ["redis-server", "--appendonly", "yes"]
        self.assertProblem(self.compose(data), "redis needs --maxmemory")

    def test_production_needs_caddy_and_no_build(self):
        data = stack()
        data["services"]["frontend"]["build"] = {"context": "."}
        result = self.compose(data, "production")
        self.assertProblem(result, "service caddy is missing")
        self.assertProblem(result, "production runs pushed images, no build")

    def test_a_key_the_compose_spec_does_not_know_is_reported(self):
        data = stack()
        data["services"]["frontend"]["imagez"] = "x"
        self.assertProblem(self.compose(data), "compose-spec: at services.frontend")


class WorkflowSchema(Repo):
    def test_a_workflow_without_jobs_is_reported(self):
        path = self.write(".github/workflows/ci.yml", "name: ci\non: push\n")
        self.assertProblem(self.run_check(cmd_workflow_schema, path), "github-workflows:")

    def test_a_valid_workflow_passes(self):
        path = self.write(".github/workflows/ci.yml", """
            name: ci
            on: push
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - run: echo ok
            """)
        self.assertClean(self.run_check(cmd_workflow_schema, path))


if __name__ == "__main__":
    unittest.main()
