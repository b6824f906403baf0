"""Launches the private stack on free ports: its own redis-server (AOF, fsync always) in a
temporary directory, three throw-away databases, auth-service, and products-service and
orders-service (one or two replicas each, every replica with its own PostgreSQL
`application_name`); and takes it all down again, also after a failure. The ports, the
databases and each service's settings come from the stack launcher's chaos profile
(scripts/launcher); the processes are the harness's own, which its faults stop and restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from launcher import Stack as Launch
from launcher import profile
from launcher.ports import free_ports
from resp import Resp

from .journal import Journal, log
from .pg import Pg
from .procs import Proc, Supervisor, http_ready
from .settings import Settings

ROOT = Path(__file__).resolve().parents[2]

SWEEP_INTERVAL_MS = 500
# The logical stream names, groups and key prefix layout are the services' contract.
STREAMS = {"orders_stream": "products-service", "inventory_stream": "orders-service"}
DEAD_LETTER_STREAM = "dead_letter_stream"


class Stack:
    def __init__(self, settings: Settings, journal: Journal):
        self.settings = settings
        self.journal = journal
        # A fixed signing key: auth-service can be restarted without invalidating tokens.
        key = subprocess.run(
            ["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True, text=True, check=True
        ).stdout
        chaos = profile("chaos", claim_idle_ms=settings.claim_idle_ms, handler_deadline_ms=settings.handler_deadline_ms,
                        reservation_ttl=settings.reservation_ttl, pending_timeout=settings.pending_timeout,
                        sweep_interval_ms=SWEEP_INTERVAL_MS, jwt_private_key=key)
        self.dir = Path(tempfile.mkdtemp(prefix="marketplace-chaos."))
        self.launch = Launch(chaos, run_dir=self.dir, pg_url=settings.pg_url, label="[chaos]")
        self.run_id = self.launch.run_id
        self.prefix = self.launch.redis_prefix
        self.dbs = {name.removesuffix("-service"): db for name, db in self.launch.databases.items()}
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
        launch = self.launch
        bin_dir = launch.bin_dir
        launch.choose_ports(("redis", "auth-service", "products-service", "orders-service"))
        ports = {name.removesuffix("-service"): port for name, port in launch.ports.items()}
        self.ports = ports
        self.redis = Resp(ports["redis"])
        launch.redis_url = f"redis://127.0.0.1:{ports['redis']}"
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
        launch.create_databases()
        extra_ports = iter(free_ports(2 * max(0, settings.replicas - 1)))
        for name in ("auth", "products", "orders"):
            copies = 1 if name == "auth" else settings.replicas
            for n in range(1, copies + 1):
                proc_key = name if n == 1 else f"{name}{n}"
                port = ports[name] if n == 1 else next(extra_ports)
                self.procs[proc_key] = Proc(
                    f"{name}-service" + ("" if n == 1 else f"#{n}"),
                    [str(bin_dir / f"{name}-service")],
                    {
                        **launch.service_environment(f"{name}-service"), "PORT": str(port),
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
        for name in self.launch.created:
            try:
                # An outage may have been cut short by a failure: open it again before the drop.
                self.pg.run("postgres", f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
            except Exception as error:
                log(f"could not reopen {name}: {error}")
        self.launch.drop_databases()

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
