"""env: the variables the services read, against compose and .env.example; the Rust source scan."""

import unittest

from checks.env import cmd_env
from checks.rust import service_reads, strip_test_code
from checks.tests.fixtures import Repo

COMPOSE = """
services:
  auth-service:
    environment:
      DATABASE_URL: postgres://db/auth
      PORT: ${PORT:-3030}
"""


class Env(Repo):
    def setUp(self):
        super().setUp()
        self.crate("auth-service", {
            "main.rs": 'fn main() { let _ = std::env::var("DATABASE_URL"); }\n',
            "config.rs": 'pub fn port() -> u16 { parse("PORT", 3030) }\n'
                         '#[cfg(test)]\nmod tests { fn t() { std::env::var("ONLY_IN_TESTS"); } }\n',
        })
        self.write("docker-compose.yml", COMPOSE)
        self.write(".env.example", "DATABASE_URL=postgres://db/auth\n# PORT=3030\n")

    def check(self):
        return self.run_check(cmd_env, self.root / "docker-compose.yml", "docker-compose.yml")

    def test_a_consistent_setup_passes(self):
        self.assertClean(self.check())

    def test_a_variable_compose_does_not_set_is_reported(self):
        self.write("docker-compose.yml", COMPOSE.replace("      PORT: ${PORT:-3030}\n", ""))
        self.assertProblem(self.check(), "auth-service does not set or default PORT (read at auth-service/src/config.rs:1)")

    def test_an_undocumented_variable_is_reported(self):
        self.write(".env.example", "DATABASE_URL=x\n")
        self.assertProblem(self.check(), "auth-service/src/config.rs:1: PORT is read here but not documented")

    def test_an_example_value_that_differs_from_the_compose_default_is_reported(self):
        self.write(".env.example", "DATABASE_URL=x\nPORT=4000\n")
        self.assertProblem(self.check(), ".env.example:2: PORT=4000, but docker-compose.yml:5 defaults it to '3030'")

    def test_an_env_var_name_that_is_no_const_str_is_reported(self):
        self.write("auth-service/src/main.rs", "fn main() { let _ = std::env::var(NAME); }\n")
        self.assertProblem(self.check(), "env var name NAME is not a const &str in this crate")

    def test_reads_of_shared_crates_count_and_test_code_does_not(self):
        self.crate("web-kit", {"lib.rs": 'pub fn f() { std::env::var("RUST_LOG_FORMAT"); }\n'})
        self.crate("auth-service", {}, deps=["web-kit"])
        reads, _ = service_reads(self.root)
        self.assertEqual(sorted(reads["auth-service"]), ["DATABASE_URL", "PORT", "RUST_LOG_FORMAT"])


class StripTestCode(unittest.TestCase):
    def test_gated_items_are_blanked_keeping_lines_and_gated_modules_named(self):
        text = 'a();\n#[cfg(test)]\nfn t() {\n  b("X");\n}\n#[cfg(test)]\nmod tests;\nc();\n'
        stripped, gated = strip_test_code(text)
        self.assertEqual(gated, ["tests"])
        self.assertEqual(stripped.count("\n"), text.count("\n"))
        self.assertNotIn('b("X")', stripped)
        self.assertIn("c();", stripped)


if __name__ == "__main__":
    unittest.main()
