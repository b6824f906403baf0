"""template-vars, context, observability and compose-env on small repositories."""

import unittest

from checks.compose_env import compose_env, interpolate
from checks.context import cmd_context
from checks.observability import cmd_observability
from checks.template_vars import cmd_template_vars
from checks.tests.fixtures import Repo

DOCKERFILE = 'ENV NGINX_ENVSUBST_FILTER="^(LISTEN_PORT|NGINX_API_RATE)$" \\\n    NGINX_API_RATE=20\n'


class TemplateVars(Repo):
    def check(self, template, frontend_env):
        self.write("frontend/Dockerfile", DOCKERFILE)
        path = self.write("frontend/nginx/default.conf.template", template)
        self.write("docker-compose.yml", "services:\n  frontend:\n    environment:\n" +
                   "".join(f"      {name}: x\n" for name in frontend_env))
        return self.run_check(cmd_template_vars, path, self.root / "docker-compose.yml", "docker-compose.yml")

    def test_variables_the_image_substitutes_and_compose_sets_pass(self):
        self.assertClean(self.check("listen ${LISTEN_PORT};\nlimit ${NGINX_API_RATE};\n", ["LISTEN_PORT"]))

    def test_a_variable_outside_the_image_filter_is_reported(self):
        result = self.check("listen ${LISTEN_PORT};\nroot ${STATIC_ROOT};\n", ["LISTEN_PORT", "STATIC_ROOT"])
        self.assertProblem(result, "default.conf.template:2: ${STATIC_ROOT} is not in frontend/Dockerfile's NGINX_ENVSUBST_FILTER")

    def test_a_variable_compose_does_not_set_is_reported(self):
        self.assertProblem(self.check("listen ${LISTEN_PORT};\n", []), "${LISTEN_PORT} is not set for the frontend in docker-compose.yml")


class Context(Repo):
    def setUp(self):
        super().setUp()
        self.write(".dockerignore", "target\ndocs/\n!docs/keep.md\n")

    def test_an_embedded_file_the_dockerignore_excludes_is_reported(self):
        self.crate("web-kit", {"lib.rs": 'const A: &str = include_str!("../../docs/notes.md");\n'})
        self.assertProblem(self.run_check(cmd_context), "web-kit/src/lib.rs:1: docs/notes.md is outside the image build context")

    def test_embedded_files_inside_the_context_pass(self):
        self.crate("web-kit", {"lib.rs": 'const A: &str = include_str!("../../docs/keep.md");\n'
                                          'const B: &str = include_str!("query.sql");\n'})
        count, output = self.run_check(cmd_context)
        self.assertEqual(count, 0, output)
        self.assertIn("build inputs checked against .dockerignore: 2", output)


class Observability(Repo):
    def test_a_missing_service_and_a_missing_mount_are_reported(self):
        path = self.write("docker-compose.yml", """
            services:
              prometheus:
                profiles: [observability]
                volumes: ["./observability/prometheus.yml:/etc/prometheus.yml"]
              grafana:
                image: grafana
            """)
        result = self.run_check(cmd_observability, path)
        self.assertProblem(result, "the observability profile lacks jaeger")
        self.assertProblem(result, "grafana is not in the observability profile")
        self.assertProblem(result, "docker-compose.yml:4: prometheus mounts ./observability/prometheus.yml, which does not exist")

    def test_a_dashboard_data_source_that_is_not_provisioned_is_reported(self):
        path = self.write("docker-compose.yml", "services: {}\n")
        self.write("observability/grafana/provisioning/datasources/ds.yml", "datasources:\n  - uid: prom\n")
        self.write("observability/grafana/dashboards/d.json", '{"uid": "dash", "panels": [{"datasource": {"uid": "prom"}}, {"datasource": {"uid": "loki"}}]}')
        self.assertProblem(self.run_check(cmd_observability, path), "data source uid loki is not provisioned")


class ComposeEnv(Repo):
    def test_interpolation_follows_compose(self):
        env = {"SET": "v", "EMPTY": ""}
        self.assertEqual(interpolate("${SET}-${UNSET}", env), "v-")
        self.assertEqual(interpolate("${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env), "d  d")
        self.assertEqual(interpolate("$${SET}", env), "${SET}")
        with self.assertRaises(SystemExit):
            interpolate("${EMPTY:?needed}", env)
        self.assertEqual(interpolate("${EMPTY?needed}", env), "")

    def test_a_service_environment_comes_with_the_env_file_values(self):
        path = self.write("docker-compose.yml", """
            services:
              auth-service:
                environment:
                  PORT: ${PORT:-3030}
                  ADMIN_PASSWORD:
                  UNSET_PASSTHROUGH:
              keygen:
                command: ["sh", "-c", "openssl genpkey > $${KEY:-/keys/k}"]
            """)
        env_file = self.write(".env", "PORT=4000\nADMIN_PASSWORD='s3cret'\n")
        self.assertEqual(compose_env(path, env_file, "auth-service"), "PORT=4000\0ADMIN_PASSWORD=s3cret\0")
        self.assertEqual(compose_env(path, "", "auth-service"), "PORT=3030\0")
        self.assertEqual(compose_env(path, "", "keygen"), "openssl genpkey > ${KEY:-/keys/k}")


if __name__ == "__main__":
    unittest.main()
