"""Launches the private stack on free ports: its own redis-server (AOF, fsync always) in a
temporary directory, three throw-away databases, auth-service, and products-service and
orders-service (one or two replicas each, every replica with its own PostgreSQL
`application_name`); and takes it all down again, also after a failure."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .journal import Journal, log
from .pg import Pg
from .procs import Proc, Supervisor, http_ready
from .resp import Resp
from .settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SWEEP_INTERVAL_MS = 500
# The logical stream names, groups and key prefix layout are the services' contract.
STREAMS = {"orders_stream": "products-service", "inventory_stream": "orders-service"}
DEAD_LETTER_STREAM = "dead_letter_stream"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, settings: Settings, journal: Journal):
        self.settings = settings
        self.journal = journal
        self.run_id = f"chaos_{int(time.time())}_{os.getpid()}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"marketplace-{self.run_id}."))
        self.prefix = f"{self.run_id}:"
        self.dbs = {name: f"{self.run_id}_{name}" for name in ("auth", "products", "orders")}
        self.created_dbs: list[str] = []
        self.pg = Pg(settings.pg_url)
        self.procs: dict[str, Proc] = {}
        self.supervisor = Supervisor(self.procs, journal)
        self.redis_dir = self.dir / "redis"
        self.ports: dict[str, int] = {}
        self.redis = Resp(0)
        self.url: dict[str, str] = {}

    def key(self, logical: str) -> str:
        return self.prefix + logical

    def application_name(self, proc_key: str) -> str:
        """What the replica `proc_key` (products, products2, ...) shows in pg_stat_activity."""
        return f"{self.run_id}-{proc_key}"

    def replicas(self, service: str) -> list[Proc]:
        return [p for k, p in self.procs.items() if k.rstrip("0123456789") == service]

    # -- start ---------------------------------------------------------------------------------

    def start(self) -> None:
        settings = self.settings
        bin_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
        ports = {name: free_port() for name in ("redis", "auth", "products", "orders")}
        self.ports = ports
        self.redis = Resp(ports["redis"])
        self.redis_dir.mkdir()
        self.procs["redis"] = Proc(
            "redis",
            [
                "redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                "--dir", str(self.redis_dir), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--protected-mode", "no", "--daemonize", "no",
            ],
            dict(os.environ), self.dir / "redis.log", self.redis.ping, ROOT, service=False,
        )
        for name in self.dbs.values():
            self.pg.run("postgres", f"CREATE DATABASE {name}")
            self.created_dbs.append(name)
        common = {
            **os.environ,
            "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}",
            "REDIS_KEY_PREFIX": self.prefix,
            "APP_ENV": "development",
            "AUTH_URL": f"http://127.0.0.1:{ports['auth']}",
            "RUST_LOG": os.environ.get("RUST_LOG", "info,sqlx=warn"),
        }
        consumer = {
            # stream-lib 2 reads these; the first version ignores them (fixed in code).
            "STREAM_CLAIM_IDLE_MS": str(settings.claim_idle_ms),
            "STREAM_HANDLER_DEADLINE_MS": str(settings.handler_deadline_ms),
        }
        # A fixed signing key: auth-service can be restarted without invalidating tokens.
        key = subprocess.run(
            ["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True, text=True, check=True
        ).stdout
        service_env = {
            "auth": {
                "DEMO_USERS": "false", "COOKIE_SECURE": "false", "JWT_PRIVATE_KEY": key,
                "RATE_LIMIT_SIGNUP_PER_IP": "10000", "RATE_LIMIT_LOGIN_PER_IP": "10000",
            },
            "products": consumer,
            "orders": {
                **consumer,
                "RESERVATION_TTL_SECS": str(settings.reservation_ttl),
                "PENDING_TIMEOUT_SECS": str(settings.pending_timeout),
                "SWEEP_INTERVAL_MS": str(SWEEP_INTERVAL_MS),
                # Workers hold many unpaid orders at once, faster than any person: the per-buyer
                # limits must not change what the run exercises.
                "MAX_OPEN_ORDERS_PER_BUYER": "1000000",
                "RATE_LIMIT_ORDERS_PER_BUYER": "1000000",
            },
        }
        for name in ("auth", "products", "orders"):
            copies = 1 if name == "auth" else settings.replicas
            for n in range(1, copies + 1):
                proc_key = name if n == 1 else f"{name}{n}"
                port = ports[name] if n == 1 else free_port()
                self.procs[proc_key] = Proc(
                    f"{name}-service" + ("" if n == 1 else f"#{n}"),
                    [str(bin_dir / f"{name}-service")],
                    {
                        **common, **service_env[name], "PORT": str(port),
                        "DATABASE_URL": self.pg.url(self.dbs[name], self.application_name(proc_key)),
                    },
                    self.dir / f"{name}-service{'' if n == 1 else f'-{n}'}.log",
                    http_ready(f"http://127.0.0.1:{port}/ready"),
                    ROOT,
                )
        self.url = {name: f"http://127.0.0.1:{ports[name]}" for name in ("auth", "products", "orders")}
        for name, proc in self.procs.items():
            proc.start()
            self.supervisor.wait_up(name, 120)
        log(
            f"redis :{ports['redis']} (AOF, fsync always, dir {self.redis_dir}), auth :{ports['auth']}, "
            f"products :{ports['products']}, orders :{ports['orders']}, {settings.replicas} replica(s) "
            f"of products and orders; prefix {self.prefix}"
        )

    # -- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        procs = [p for p in self.procs.values() if p.alive()]
        for proc in procs:
            proc.signal(signal.SIGCONT)
        for proc in procs:
            if proc.service:
                proc.signal(signal.SIGTERM)
        for proc in procs:
            if proc.service:
                try:
                    proc.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
        for proc in procs:
            if not proc.service and proc.alive():
                proc.popen.kill()
                proc.popen.wait()
        for name in self.created_dbs:
            try:
                # An outage may have been cut short by a failure: open it again, then drop it.
                self.pg.run("postgres", f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
                self.pg.run("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except Exception as error:
                log(f"could not drop {name}: {error}")

    def archive(self, logs: Path) -> None:
        """Copies the logs and the fault journal to `logs`; removes the run directory."""
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True, exist_ok=True)
        for path in self.dir.glob("*.log"):
            shutil.copy(path, logs / path.name)
        (logs / "faults.txt").write_text("\n".join(self.journal.lines()) + "\n")
        if self.settings.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
