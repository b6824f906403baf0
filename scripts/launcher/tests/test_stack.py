"""The launcher against the real PostgreSQL: settings per profile, a failed start cleaned up.
Run from scripts/: `python3 -m unittest discover -s launcher/tests -t .`."""

import os
import stat
import tempfile
import time
import unittest
from pathlib import Path

from launcher import Stack, StackError, profile
from launcher.ports import free_ports
from launcher.stack import read_env_file


class EnvFile(unittest.TestCase):
    def test_nul_separated_values_may_hold_newlines_and_lines_work_too(self):
        with tempfile.TemporaryDirectory() as tmp:
            nul, lines = Path(tmp, "a"), Path(tmp, "b")
            nul.write_text("KEY=-----BEGIN\nabc\0PORT=1\0")
            lines.write_text("A=1\nB=x=y\n")
            self.assertEqual(read_env_file(nul), {"KEY": "-----BEGIN\nabc", "PORT": "1"})
            self.assertEqual(read_env_file(lines), {"A": "1", "B": "x=y"})


class Environment(unittest.TestCase):
    def test_a_check_run_gives_only_the_settings_given_with_local_addresses(self):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Path(tmp, "auth.env")
            settings.write_text("DEMO_USERS=false\0PORT=3030\0DATABASE_URL=postgres://db_auth/auth\0")
            stack = Stack(profile("check"), run_dir=tmp, env_files={"auth-service": settings})
            stack.ports = dict(zip(["nginx", "auth-service", "products-service", "orders-service"], free_ports(4), strict=True))
            env = stack.service_environment("auth-service")
        self.assertEqual(env["DEMO_USERS"], "false")
        self.assertEqual(env["PORT"], str(stack.ports["auth-service"]))
        self.assertTrue(env["DATABASE_URL"].endswith(f"/{stack.run_id}_auth"))
        self.assertTrue(env["REDIS_KEY_PREFIX"].startswith("check_"))
        self.assertNotIn("HOME", env)
        self.assertEqual(env["PATH"], "/usr/bin:/bin")

    def test_a_dev_run_keeps_its_databases_and_the_callers_environment(self):
        stack = Stack(profile("dev"), run_dir=tempfile.mkdtemp())
        stack.ports = dict(profile("dev").ports)
        env = stack.service_environment("products-service")
        self.assertEqual(env["SEED_CATALOG"], "true")
        self.assertEqual(env["HOME"], os.environ["HOME"])
        self.assertTrue(env["DATABASE_URL"].endswith("/marketplace_products") or "DEV_DATABASE_PREFIX" in os.environ)


    def test_an_extra_replica_gets_its_own_port_and_only_the_common_settings(self):
        stack = Stack(profile("e2e"), run_dir=tempfile.mkdtemp())
        stack.choose_ports()
        self.assertEqual(stack.copies(), ["products-service-2"])
        first = stack.service_environment("products-service")
        copy = stack.service_environment("products-service", "products-service-2")
        self.assertEqual(first["SEED_CATALOG"], "true")
        self.assertNotIn("SEED_CATALOG", copy)
        self.assertEqual(copy["DATABASE_URL"], first["DATABASE_URL"])
        self.assertEqual(copy["PORT"], str(stack.ports["products-service-2"]))
        self.assertNotEqual(copy["PORT"], first["PORT"])

    def test_a_chaos_run_carries_its_windows_and_its_own_redis(self):
        chaos = profile("chaos", claim_idle_ms=1234, reservation_ttl=7, jwt_private_key="KEY")
        stack = Stack(chaos, run_dir=tempfile.mkdtemp(), redis_url="redis://127.0.0.1:1")
        stack.choose_ports(("redis", "auth-service", "products-service", "orders-service"))
        orders, auth = stack.service_environment("orders-service"), stack.service_environment("auth-service")
        self.assertEqual((orders["STREAM_CLAIM_IDLE_MS"], orders["RESERVATION_TTL_SECS"]), ("1234", "7"))
        self.assertEqual((auth["JWT_PRIVATE_KEY"], auth["DEMO_USERS"]), ("KEY", "false"))
        self.assertEqual(orders["REDIS_URL"], "redis://127.0.0.1:1")
        self.assertEqual(orders["AUTH_URL"], f"http://127.0.0.1:{stack.ports['auth-service']}")


class FailedStart(unittest.TestCase):
    def test_a_service_that_exits_at_start_fails_the_start_and_its_databases_are_dropped(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary = Path(tmp, "auth-service")
            binary.write_text("#!/bin/sh\necho 'DATABASE_URL is broken'\nexit 1\n")
            binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
            stack = Stack(profile("e2e"), bin_dir=tmp, run_dir=Path(tmp, "run"))
            with self.assertRaises(StackError) as failure, stack:
                pass
            self.assertEqual(failure.exception.part, "auth-service")
            self.assertIn("DATABASE_URL is broken", Path(tmp, "run", "auth-service.log").read_text())
            for database in stack.databases.values():
                self.assertFalse(stack.pg.exists(database), database)


class Stop(unittest.TestCase):
    def test_a_process_that_ignores_sigterm_is_killed_and_the_stop_is_not_clean(self):
        stack = Stack(profile("e2e"), run_dir=tempfile.mkdtemp(), stop_within=1)
        stubborn = stack.spawn("orders-service", ["sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30"], {})
        obedient = stack.spawn("auth-service", ["sleep", "30"], {})
        time.sleep(0.5)  # the shell's trap is set
        self.assertFalse(stack.stop())
        self.assertIsNotNone(stubborn.poll())
        self.assertIsNotNone(obedient.poll())


class FreePorts(unittest.TestCase):
    def test_ports_are_distinct_and_below_the_ephemeral_range(self):
        ports = free_ports(4, low=40000)
        self.assertEqual(len(set(ports)), 4)
        self.assertTrue(all(28000 <= port < 40000 for port in ports), ports)


if __name__ == "__main__":
    unittest.main()
