#!/usr/bin/env python3
"""Fault injection for the marketplace (see chaos/README.md).

Starts a private Redis (AOF, appendfsync always), three throw-away PostgreSQL databases and the
three services on free ports; creates sellers, products of known stock and buyers; runs a
concurrent order workload while killing products-service, orders-service and Redis with SIGKILL
(and each service once with SIGTERM), restarting each after a short random pause; then waits for
quiescence and checks the invariants directly in the databases and Redis.

Python 3.11 standard library only: HTTP through urllib, PostgreSQL through psql, Redis through a
minimal RESP client. Every child process is started from the main thread with PR_SET_PDEATHSIG,
so nothing outlives the runner even if it is killed.
"""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("CHAOS_PG", "postgres://postgres@127.0.0.1:5432")

DURATION = float(os.environ.get("CHAOS_DURATION", "75"))
KILLS = int(os.environ.get("CHAOS_KILLS", "3"))
QUIESCE_SECS = float(os.environ.get("CHAOS_QUIESCE_SECS", "180"))
SEED = int(os.environ.get("CHAOS_SEED", str(random.SystemRandom().randrange(1, 10**9))))
KEEP = os.environ.get("CHAOS_KEEP") == "1"
WORKERS = int(os.environ.get("CHAOS_WORKERS", "6"))
PG_KILLS = int(os.environ.get("CHAOS_PG_KILLS", "2"))
TAMPER = os.environ.get("CHAOS_TAMPER") == "1"
# 2: a second replica of products-service and orders-service (same database and Redis), and a
# freeze fault: SIGSTOP for longer than claim_min_idle, so the other replica takes the frozen
# one's entries over while it still holds them (a zombie consumer), then SIGCONT.
REPLICAS = int(os.environ.get("CHAOS_REPLICAS", "1"))
FREEZE_SECS = float(os.environ.get("CHAOS_FREEZE_SECS", "36"))

# Short timings (orders-service reads them from the environment). stream-lib's consumer timings
# are fixed in code (ConsumerConfig::new): claim_min_idle 30 s, reclaim every 15 s, heartbeat every
# 10 s, retries 1 s doubling (x2) up to 8 attempts. An entry in flight in a killed consumer is
# therefore taken over 30-45 s later; PENDING_TIMEOUT_SECS must leave room for that plus the
# restart and any Redis outage, or orders would time out instead of being answered.
RESERVATION_TTL_SECS = int(os.environ.get("CHAOS_RESERVATION_TTL", "15"))
PENDING_TIMEOUT_SECS = int(os.environ.get("CHAOS_PENDING_TIMEOUT", "90"))
SWEEP_INTERVAL_MS = 500

PRICE = "10.00"
PASSWORD = "Chaos-monkey-pass-2026"
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}

FINAL = {"PAID", "CANCELLED", "REJECTED", "EXPIRED"}


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# PostgreSQL (psql) and Redis (RESP)
# ---------------------------------------------------------------------------------------------


def psql(db: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", f"{PG}/{db}", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql {db}: {done.stderr.strip()}")
    return done.stdout


def pg_rows(db: str, sql: str) -> list[dict]:
    out = psql(db, f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) AS t")
    return json.loads(out)


def pg_value(db: str, sql: str):
    out = psql(db, f"SELECT to_json(({sql}))")
    return json.loads(out)


class Resp:
    """A minimal Redis client: one command per connection, RESP2 replies."""

    def __init__(self, port: int):
        self.port = port

    def __call__(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            payload = f"*{len(args)}\r\n".encode()
            for arg in args:
                data = str(arg).encode()
                payload += b"$%d\r\n%s\r\n" % (len(data), data)
            s.sendall(payload)
            reader = s.makefile("rb")
            return self._read(reader)

    def _read(self, reader):
        line = reader.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(f"redis: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = reader.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read(reader) for _ in range(n)]
        raise RuntimeError(f"unexpected redis reply {line!r}")


def pairs(flat) -> dict:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str | None  # None: Redis
    popen: subprocess.Popen | None = None
    expected_down: bool = False  # we killed it; a restart is scheduled
    restart_at: float | None = None
    was_up: bool = False  # answered since its last start
    starts: int = 0
    sigkills: int = 0
    sigterms: int = 0
    crashes: list[str] = field(default_factory=list)  # exits we did not cause, after being up
    startup_failures: list[str] = field(default_factory=list)  # exits before answering
    term_waits: list[float] = field(default_factory=list)
    thaw_at: float | None = None  # SIGSTOPped until then
    freezes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Main thread only (PR_SET_PDEATHSIG is per spawning thread)."""
        assert threading.current_thread() is threading.main_thread()
        out = open(self.log_path, "ab")
        out.write(f"\n===== chaos: start #{self.starts + 1} at {time.strftime('%H:%M:%S')} =====\n".encode())
        out.flush()
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            cwd=ROOT,
        )
        out.close()
        self.starts += 1
        self.was_up = False
        self.expected_down = False
        self.restart_at = None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def answers(self) -> bool:
        if not self.alive():
            return False
        if self.health_url is None:
            try:
                return REDIS(["PING"]) == "PONG"
            except Exception:
                return False
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as r:
                return r.status == 200
        except Exception:
            return False

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("      " + line for line in text[-lines:])


class _Redis:
    port = 0

    def __call__(self, argv):
        return Resp(self.port)(*argv)


REDIS = _Redis()


# ---------------------------------------------------------------------------------------------
# HTTP client for the workload
# ---------------------------------------------------------------------------------------------


class Transient(Exception):
    pass


def request_once(method: str, url: str, body=None, token: str | None = None, headers=None, timeout=10):
    """(status, json body, headers); raises Transient on connection errors."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None), response.headers
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")}
        return error.code, parsed, error.headers
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError) as error:
        raise Transient(str(error)) from error


def call(method, url, body=None, token=None, headers=None, deadline=None, retry_409=False):
    """Retries connection errors and 5xx (and 409 'in progress' when asked) until `deadline`.
    Returns (status, body) or None when it gave up."""
    deadline = deadline or time.monotonic() + 60
    while True:
        try:
            status, parsed, _ = request_once(method, url, body, token, headers)
            if status < 500 and not (retry_409 and status == 409):
                return status, parsed
        except Transient:
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(random.uniform(0.2, 0.5))


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


@dataclass
class OrderRecord:
    order_id: str
    user_id: str
    lines: list[tuple[str, int]]
    fate: str
    seen: list[str] = field(default_factory=list)
    paid_ack: bool = False  # 200 from /pay
    cancel_ack: bool = False  # 200 from /cancel


class Run:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.run_id = f"chaos_{int(time.time())}_{os.getpid()}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"marketplace-{self.run_id}."))
        self.prefix = f"{self.run_id}:"
        self.dbs = {name: f"{self.run_id}_{name}" for name in ("auth", "products", "orders")}
        self.created_dbs: list[str] = []
        self.procs: dict[str, Proc] = {}
        self.lock = threading.Lock()
        self.orders: list[OrderRecord] = []
        self.gave_up_posts = 0
        self.client_errors: list[str] = []
        self.fault_log: list[str] = []
        self.harness_errors: list[str] = []
        self.stop_workload = threading.Event()
        self.stop_faults = threading.Event()
        self.results: list[tuple[str, bool, str]] = []
        self.products: dict[str, dict] = {}  # id -> {seller, stock (initial), scarce}
        self.users: dict[str, dict] = {}
        self.pg_terminations: dict[str, int] = {}

    # -- set-up -----------------------------------------------------------------------------

    def setup(self) -> None:
        bin_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
        ports = {name: free_port() for name in ("redis", "auth", "products", "orders")}
        self.ports = ports
        REDIS.port = ports["redis"]
        redis_dir = self.dir / "redis"
        redis_dir.mkdir()
        self.procs["redis"] = Proc(
            "redis",
            [
                "redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                "--dir", str(redis_dir), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--protected-mode", "no", "--daemonize", "no",
            ],
            dict(os.environ),
            self.dir / "redis.log",
            None,
        )
        for name in self.dbs.values():
            psql("postgres", f"CREATE DATABASE {name}")
            self.created_dbs.append(name)
        common = {
            **os.environ,
            "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}",
            "REDIS_KEY_PREFIX": self.prefix,
            "APP_ENV": "development",
            "AUTH_URL": f"http://127.0.0.1:{ports['auth']}",
            "RUST_LOG": os.environ.get("RUST_LOG", "info,sqlx=warn"),
        }
        service_env = {
            "auth": {
                "DEMO_USERS": "false", "COOKIE_SECURE": "false",
                "RATE_LIMIT_SIGNUP_PER_IP": "10000", "RATE_LIMIT_LOGIN_PER_IP": "10000",
            },
            "products": {},
            "orders": {
                "RESERVATION_TTL_SECS": str(RESERVATION_TTL_SECS),
                "PENDING_TIMEOUT_SECS": str(PENDING_TIMEOUT_SECS),
                "SWEEP_INTERVAL_MS": str(SWEEP_INTERVAL_MS),
            },
        }
        # A fixed signing key: auth-service can be restarted without invalidating tokens.
        key = subprocess.run(
            ["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True, text=True, check=True
        ).stdout
        service_env["auth"]["JWT_PRIVATE_KEY"] = key
        for name in ("auth", "products", "orders"):
            self.procs[name] = Proc(
                f"{name}-service",
                [str(bin_dir / f"{name}-service")],
                {
                    **common,
                    **service_env[name],
                    "PORT": str(ports[name]),
                    "DATABASE_URL": f"{PG}/{self.dbs[name]}",
                },
                self.dir / f"{name}-service.log",
                f"http://127.0.0.1:{ports[name]}/ready",
            )
        if REPLICAS >= 2:
            for name in ("products", "orders"):
                first = self.procs[name]
                port = free_port()
                self.procs[f"{name}2"] = Proc(
                    f"{name}-service#2", first.argv, {**first.env, "PORT": str(port)},
                    self.dir / f"{name}-service-2.log", f"http://127.0.0.1:{port}/ready",
                )
        self.url = {name: f"http://127.0.0.1:{ports[name]}" for name in ("auth", "products", "orders")}
        for name in self.procs:
            self.procs[name].start()
            self.wait_up(name, 120)
        log(
            f"redis :{ports['redis']} (AOF, fsync always, dir {redis_dir}), auth :{ports['auth']}, "
            f"products :{ports['products']}, orders :{ports['orders']}; prefix {self.prefix}"
        )

    def wait_up(self, name: str, patience: float) -> None:
        proc = self.procs[name]
        deadline = time.monotonic() + patience
        while not proc.answers():
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.log_tail(30)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} not ready after {patience:.0f} s:\n{proc.log_tail(30)}")
            time.sleep(0.2)
        proc.was_up = True

    def signup(self, role: str, index: int) -> dict:
        name = f"c{role[0]}{index}x{uuid.uuid4().hex[:8]}"
        body = {"username": name, "email": f"{name}@chaos.example.com", "password": PASSWORD}
        result = call("POST", f"{self.url['auth']}/api/auth/signup", body, deadline=time.monotonic() + 60)
        if not result or result[0] != 201:
            raise RuntimeError(f"signup failed: {result}")
        result = call(
            "POST", f"{self.url['auth']}/api/auth/login",
            {"email": body["email"], "password": PASSWORD}, deadline=time.monotonic() + 60,
        )
        if not result or result[0] != 200:
            raise RuntimeError(f"login failed: {result}")
        return {"id": result[1]["user"]["id"], "token": result[1]["access_token"], "name": name}

    def populate(self) -> None:
        sellers = [self.signup("seller", i) for i in range(3)]
        buyers = [self.signup("buyer", i) for i in range(WORKERS + 2)]
        self.sellers, self.buyers = sellers, buyers
        for user in sellers + buyers:
            self.users[user["id"]] = user
        index = 0
        for seller in sellers:
            for k in range(4):
                scarce = k == 0
                stock = self.rng.randint(2, 4) if scarce else self.rng.randint(40, 120)
                body = {
                    "name": f"chaos product {index}", "description": "fault injection",
                    "category": "chaos", "price": PRICE, "stock": stock,
                }
                result = call("POST", f"{self.url['products']}/api/products", body, seller["token"])
                if not result or result[0] != 201:
                    raise RuntimeError(f"creating a product failed: {result}")
                self.products[result[1]["id"]] = {"seller": seller["id"], "stock": stock, "scarce": scarce}
                index += 1
        ids = list(self.products)
        deadline = time.monotonic() + 120
        while True:
            known = pg_value(
                self.dbs["orders"],
                "SELECT count(*) FROM catalog_products WHERE product_id = ANY(ARRAY["
                + ",".join(f"'{i}'::uuid" for i in ids)
                + "])",
            )
            if known == len(ids):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("orders-service never learnt the products (product.created lost?)")
            time.sleep(0.3)
        total = sum(p["stock"] for p in self.products.values())
        log(f"{len(sellers)} sellers, {len(buyers)} buyers, {len(ids)} products, {total} units in stock")

    # -- workload ---------------------------------------------------------------------------

    def order_flow(self, rng: random.Random, buyer: dict, lines=None, fate=None) -> None:
        products = list(self.products)
        if lines is None:
            scarce = [p for p in products if self.products[p]["scarce"]]
            plenty = [p for p in products if not self.products[p]["scarce"]]
            count = rng.choice([1, 1, 2, 2, 3])
            chosen = rng.sample(plenty, count)
            if rng.random() < 0.3:
                chosen[0] = rng.choice(scarce)
            lines = [(p, rng.randint(1, 3)) for p in chosen]
        fate = fate or rng.choices(
            ["pay", "cancel", "cancel_pending", "expire"], weights=[40, 15, 10, 35]
        )[0]
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines]}
        key = str(uuid.uuid4())
        result = call(
            "POST", f"{self.url['orders']}/api/orders", body, buyer["token"],
            {"idempotency-key": key}, deadline=time.monotonic() + 60, retry_409=True,
        )
        if result is None:
            with self.lock:
                self.gave_up_posts += 1
            return
        status, parsed = result
        if status != 201:
            with self.lock:
                self.client_errors.append(f"POST /api/orders -> {status} {parsed}")
            return
        record = OrderRecord(parsed["id"], buyer["id"], lines, fate)
        with self.lock:
            self.orders.append(record)
        order_url = f"{self.url['orders']}/api/orders/{record.order_id}"
        if fate == "cancel_pending":
            result = call("POST", f"{order_url}/cancel", None, buyer["token"], deadline=time.monotonic() + 30)
            record.cancel_ack = bool(result and result[0] == 200)
            return
        # Wait for the inventory's answer.
        deadline = time.monotonic() + PENDING_TIMEOUT_SECS + 20
        state = "PENDING"
        while time.monotonic() < deadline:
            result = call("GET", order_url, None, buyer["token"], deadline=deadline)
            if result and result[0] == 200:
                state = result[1]["status"]
                if state != "PENDING":
                    break
            time.sleep(0.3)
        record.seen.append(state)
        if state != "CONFIRMED":
            return
        if fate == "pay":
            result = call("POST", f"{order_url}/pay", CARD, buyer["token"], deadline=time.monotonic() + 30)
            record.paid_ack = bool(result and result[0] == 200)
        elif fate == "cancel":
            time.sleep(rng.uniform(0, 3))
            result = call("POST", f"{order_url}/cancel", None, buyer["token"], deadline=time.monotonic() + 30)
            record.cancel_ack = bool(result and result[0] == 200)

    def worker(self, index: int) -> None:
        rng = random.Random(SEED * 1000 + index)
        buyer = self.buyers[index % len(self.buyers)]
        while not self.stop_workload.is_set():
            try:
                self.order_flow(rng, buyer)
            except Exception:
                with self.lock:
                    self.harness_errors.append(traceback.format_exc())
            time.sleep(rng.uniform(0.1, 0.6))

    def burst(self) -> None:
        """Many buyers at once for the scarcest product: most must be rejected."""
        scarce = min((p for p in self.products if self.products[p]["scarce"]), key=lambda p: self.products[p]["stock"])
        threads = [
            threading.Thread(
                target=self.order_flow,
                args=(random.Random(SEED + i), self.buyers[i % len(self.buyers)], [(scarce, 1)], "pay"),
                daemon=True,
            )
            for i in range(10)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # -- faults -----------------------------------------------------------------------------

    def fault_plan(self, start: float, end: float) -> list[tuple[float, str, str]]:
        events = [(target, "KILL") for target in ("products", "orders", "redis") for _ in range(KILLS)]
        events += [("products", "TERM"), ("orders", "TERM"), ("auth", "TERM")]
        events += [(target, "PGTERM") for target in ("products", "orders") for _ in range(PG_KILLS)]
        freezes = []
        if REPLICAS >= 2:
            # products#1 only serves set-up HTTP; orders#2 serves none: freezing them stalls no
            # buyer. Early, so each freeze lasts its full length before the faults stop.
            freezes = [(start + 3, "products", "STOP"), (start + 8, "orders2", "STOP")]
            events += [("products2", "KILL"), ("orders2", "KILL")]
        self.rng.shuffle(events)
        slot = (end - start) / len(events)
        return sorted(freezes + [
            (start + i * slot + self.rng.uniform(0, slot * 0.8), target, sig)
            for i, (target, sig) in enumerate(events)
        ])

    def injector(self, plan) -> None:
        """Sends the signals; the main thread restarts (it owns every child)."""
        rng = random.Random(SEED + 7)
        for at, target, sig in plan:
            while time.monotonic() < at:
                if self.stop_faults.wait(0.05):
                    return
            if sig == "PGTERM":
                self.terminate_connections(target)
                continue
            proc = self.procs[target]
            # Not twice in a row before it came back.
            deadline = time.monotonic() + 30 + FREEZE_SECS
            while not self.stop_faults.is_set():
                with proc.lock:
                    ready = (proc.alive() and proc.was_up and not proc.expected_down
                             and proc.restart_at is None and proc.thaw_at is None)
                if ready or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if self.stop_faults.is_set():
                return
            with proc.lock:
                if not proc.alive():
                    continue
                if sig == "STOP":
                    proc.popen.send_signal(signal.SIGSTOP)
                    proc.freezes += 1
                    proc.thaw_at = time.monotonic() + FREEZE_SECS
                    self.fault_log.append(f"{time.strftime('%H:%M:%S')} SIGSTOP {proc.name} for {FREEZE_SECS:.0f} s")
                    log(f"SIGSTOP {proc.name} for {FREEZE_SECS:.0f} s (its entries must be taken over, its late work absorbed)")
                    continue
                pause = rng.uniform(0.5, 3.0) if target == "redis" else rng.uniform(0.5, 5.0)
                proc.expected_down = True
                pid = proc.popen.pid
                if sig == "KILL":
                    proc.popen.send_signal(signal.SIGKILL)
                    proc.sigkills += 1
                    proc.restart_at = time.monotonic() + pause
                else:
                    proc.popen.send_signal(signal.SIGTERM)
                    proc.sigterms += 1
            self.fault_log.append(f"{time.strftime('%H:%M:%S')} SIG{sig} {proc.name} (pid {pid}), restart in {pause:.1f} s")
            log(f"SIG{sig} {proc.name} (pid {pid}); restart in {pause:.1f} s")
            if sig == "TERM":
                began = time.monotonic()
                try:
                    proc.popen.wait(timeout=30)
                    waited = time.monotonic() - began
                    proc.term_waits.append(waited)
                except subprocess.TimeoutExpired:
                    proc.term_waits.append(float("inf"))
                    self.fault_log.append(f"{proc.name} ignored SIGTERM for 30 s; SIGKILL")
                    proc.popen.send_signal(signal.SIGKILL)
                with proc.lock:
                    proc.restart_at = time.monotonic() + pause

    def terminate_connections(self, target: str) -> None:
        """For about 2 s, drops every PostgreSQL connection of one service's database every
        ~150 ms: transactions in flight fail (some commits succeed without the client hearing
        of it), which exercises the handlers' durable retries and the HTTP clients' retries."""
        db = self.dbs[target]
        total = 0
        end = time.monotonic() + 2.0
        while time.monotonic() < end and not self.stop_faults.is_set():
            try:
                total += pg_value(
                    "postgres",
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{db}' AND pid <> pg_backend_pid()) AS t",
                )
            except Exception as error:
                log(f"pg_terminate_backend failed: {error}")
            time.sleep(0.15)
        self.pg_terminations[target] = self.pg_terminations.get(target, 0) + 1
        self.fault_log.append(f"{time.strftime('%H:%M:%S')} {total} connections of {db} terminated over 2 s")
        log(f"terminated {total} PostgreSQL connections of {target}-service over 2 s")

    def supervise_once(self) -> None:
        """Main thread: restarts what is due, notices exits we did not cause, marks readiness."""
        now = time.monotonic()
        for proc in self.procs.values():
            with proc.lock:
                if proc.thaw_at is not None and (now >= proc.thaw_at or self.stop_faults.is_set()):
                    if proc.alive():
                        proc.popen.send_signal(signal.SIGCONT)
                        self.fault_log.append(f"{time.strftime('%H:%M:%S')} SIGCONT {proc.name}")
                        log(f"SIGCONT {proc.name}")
                    proc.thaw_at = None
                if proc.restart_at is not None and now >= proc.restart_at and not proc.alive():
                    proc.start()
                    continue
                if proc.popen is not None and not proc.alive() and not proc.expected_down:
                    code = proc.popen.returncode
                    what = f"{time.strftime('%H:%M:%S')} exit code {code}\n{proc.log_tail(12)}"
                    (proc.crashes if proc.was_up else proc.startup_failures).append(what)
                    log(f"{proc.name} exited by itself (code {code}, {'after' if proc.was_up else 'before'} answering); restarting in 1 s")
                    proc.expected_down = True
                    proc.restart_at = now + 1.0
                    continue
            if proc.alive() and not proc.was_up and proc.answers():
                proc.was_up = True

    def supervise_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.supervise_once()
            time.sleep(0.1)

    def workload(self) -> None:
        log(f"RESERVATION_TTL_SECS={RESERVATION_TTL_SECS}, PENDING_TIMEOUT_SECS={PENDING_TIMEOUT_SECS}")
        log(f"workload for {DURATION:.0f} s with {WORKERS} buyers; faults: SIGKILL x{KILLS} each of products, orders, redis; one SIGTERM of each service; "
            f"PostgreSQL connections of products and orders dropped x{PG_KILLS} each")
        t0 = time.monotonic()
        threads = [threading.Thread(target=self.burst, daemon=True)]
        threads += [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(WORKERS)]
        for t in threads:
            t.start()
        plan = self.fault_plan(t0 + 4, t0 + DURATION - 8)
        injector = threading.Thread(target=self.injector, args=(plan,), daemon=True)
        injector.start()
        while time.monotonic() < t0 + DURATION:
            self.supervise_once()
            time.sleep(0.1)
        self.stop_workload.set()
        # Let the injector finish its last restart, then stop faults.
        deadline = time.monotonic() + 40
        while injector.is_alive() and time.monotonic() < deadline:
            self.supervise_once()
            time.sleep(0.1)
        self.stop_faults.set()
        # Everything must be up again before in-flight flows can finish.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            self.supervise_once()
            if all(p.alive() and p.was_up and p.restart_at is None and p.thaw_at is None for p in self.procs.values()):
                break
            time.sleep(0.1)
        log("faults stopped; every process is up again; waiting for the buyers' last flows")
        deadline = time.monotonic() + PENDING_TIMEOUT_SECS + 60
        for t in threads:
            while t.is_alive() and time.monotonic() < deadline:
                self.supervise_once()
                t.join(0.1)
        self.workload_secs = time.monotonic() - t0
        kills = {p.name: (p.sigkills, p.sigterms) for p in self.procs.values()}
        log(f"workload done after {self.workload_secs:.0f} s: {len(self.orders)} orders; (SIGKILL, SIGTERM) per process: {kills}")

    # -- quiescence -------------------------------------------------------------------------

    def stream_state(self) -> dict:
        state = {}
        for stream in ("orders_stream", "inventory_stream"):
            key = self.prefix + stream
            info = pairs(REDIS(["XINFO", "STREAM", key]))
            groups = [pairs(g) for g in REDIS(["XINFO", "GROUPS", key])]
            retries = {
                g["name"]: REDIS(["ZCARD", f"{self.prefix}stream-lib:retries:{stream}:{g['name']}"])
                for g in groups
            }
            state[stream] = {
                "length": info["length"],
                "last": info["last-generated-id"],
                "groups": [
                    {
                        "name": g["name"],
                        "pending": g["pending"],
                        "lag": g.get("lag"),
                        "behind": g["last-delivered-id"] != info["last-generated-id"],
                        "retries": retries[g["name"]],
                    }
                    for g in groups
                ],
            }
        return state

    def snapshot(self) -> dict:
        o, p = self.dbs["orders"], self.dbs["products"]
        return {
            "statuses": {r["status"]: r["n"] for r in pg_rows(o, "SELECT status, count(*) AS n FROM orders GROUP BY status")},
            "unpublished_orders": pg_value(o, "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            "unpublished_products": pg_value(p, "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            "streams": self.stream_state(),
        }

    @staticmethod
    def quiet(snap: dict) -> list[str]:
        why = []
        for status in ("PENDING", "CONFIRMED"):
            if snap["statuses"].get(status):
                why.append(f"{snap['statuses'][status]} {status}")
        for side in ("orders", "products"):
            if snap[f"unpublished_{side}"]:
                why.append(f"{snap[f'unpublished_{side}']} unpublished {side} outbox rows")
        for stream, s in snap["streams"].items():
            if not s["groups"]:
                why.append(f"{stream} has no group")
            for g in s["groups"]:
                if g["pending"] or g["behind"] or g["retries"] or g["lag"] not in (0, None):
                    why.append(f"{stream}/{g['name']}: pending {g['pending']}, lag {g['lag']}, retries {g['retries']}")
        return why

    def quiesce(self) -> bool:
        log(f"waiting for quiescence (up to {QUIESCE_SECS:.0f} s)")
        start = time.monotonic()
        previous, last_report = None, 0.0
        while True:
            self.supervise_once()
            try:
                snap = self.snapshot()
                why = self.quiet(snap)
            except Exception as error:  # Redis restarting, say
                snap, why = None, [f"snapshot failed: {error}"]
            if not why and snap == previous:
                self.quiesce_secs = time.monotonic() - start
                log(f"quiescent after {self.quiesce_secs:.0f} s: {snap['statuses']}")
                return True
            previous = snap if not why else None
            elapsed = time.monotonic() - start
            if elapsed > QUIESCE_SECS:
                self.quiesce_secs = elapsed
                log(f"NOT quiescent after {elapsed:.0f} s: {'; '.join(why)}")
                return False
            if elapsed - last_report > 15:
                last_report = elapsed
                log(f"  still busy: {'; '.join(why) or 'settling'}")
            self.supervise_for(1.0)

    # -- invariants -------------------------------------------------------------------------

    def check(self, name: str, failures: list[str], summary: str) -> None:
        ok = not failures
        self.results.append((name, ok, summary if ok else f"{len(failures)} violation(s)"))
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {summary if ok else ''}")
        for line in failures[:12]:
            print(f"         - {line}")
        if len(failures) > 12:
            print(f"         ... and {len(failures) - 12} more")

    def invariants(self, quiescent: bool) -> None:
        o, p = self.dbs["orders"], self.dbs["products"]
        orders = {r["id"]: r for r in pg_rows(o, "SELECT id, user_id, status, reason, expires_at, version, expires_at > now() AS waiting FROM orders")}
        items = defaultdict(dict)
        for r in pg_rows(o, "SELECT order_id, product_id, quantity FROM order_items"):
            items[r["order_id"]][r["product_id"]] = r["quantity"]
        history = defaultdict(list)
        for r in pg_rows(o, "SELECT order_id, from_status, to_status, reason FROM order_status_history ORDER BY id"):
            history[r["order_id"]].append(r)
        reservations = {r["order_id"]: r for r in pg_rows(p, "SELECT order_id, status, lines FROM reservations")}
        products = {r["id"]: r for r in pg_rows(p, "SELECT id, stock, version, deleted_at IS NOT NULL AS deleted FROM products")}
        catalog = {r["product_id"]: r for r in pg_rows(o, "SELECT product_id, stock, version, deleted FROM catalog_products")}
        orders_outbox = pg_rows(o, "SELECT event_id, event_type, payload, published_at IS NOT NULL AS published FROM outbox")
        products_outbox = pg_rows(p, "SELECT event_id, event_type, payload, published_at IS NOT NULL AS published FROM outbox")
        products_inbox = {r["event_id"] for r in pg_rows(p, "SELECT event_id FROM inbox")}
        orders_inbox = {r["event_id"] for r in pg_rows(o, "SELECT event_id FROM inbox")}
        keys = pg_rows(o, "SELECT response_status, response_body->>'id' AS order_id FROM idempotency_keys")

        print()
        print("Invariants")

        # 1. Processes: nothing died on its own once up; SIGTERM stopped each in time.
        failures = []
        for proc in self.procs.values():
            for crash in proc.crashes:
                failures.append(f"{proc.name} exited by itself after answering: {crash}")
            for waited in proc.term_waits:
                if waited > 20:
                    failures.append(f"{proc.name} took {waited:.1f} s to stop on SIGTERM")
            if not proc.alive():
                failures.append(f"{proc.name} is not running at the end")
        startup = sum(len(p.startup_failures) for p in self.procs.values())
        self.check("processes survive faults and stop on SIGTERM", failures,
                   f"no exit we did not cause once up; {startup} start-up attempt(s) refused while a dependency was down")

        # 2. Quiescence reached and no order stuck.
        failures = [] if quiescent else ["the system never became quiescent (see above)"]
        for oid, order in orders.items():
            if order["status"] == "PENDING":
                failures.append(f"order {oid} stuck PENDING")
            elif order["status"] == "CONFIRMED" and not order["waiting"]:
                failures.append(f"order {oid} CONFIRMED past its expiry")
            elif order["status"] not in FINAL | {"CONFIRMED"}:
                failures.append(f"order {oid} in unknown status {order['status']}")
        by_status = Counter(order["status"] for order in orders.values())
        timeouts = sum(1 for order in orders.values() if order["status"] == "REJECTED" and order["reason"] == "timeout")
        self.check("every order final or legitimately waiting; streams drained", failures,
                   f"{dict(sorted(by_status.items()))}, {timeouts} REJECTED by the pending timeout")

        # 3. Every acknowledged client action is durable; no order doubled.
        failures = []
        client_ids = {r.order_id for r in self.orders}
        for r in self.orders:
            if r.order_id not in orders:
                failures.append(f"order {r.order_id} got 201 but is not in the database")
                continue
            if r.paid_ack and orders[r.order_id]["status"] != "PAID":
                failures.append(f"order {r.order_id}: payment got 200 but the order is {orders[r.order_id]['status']}")
            if r.cancel_ack and orders[r.order_id]["status"] != "CANCELLED":
                failures.append(f"order {r.order_id}: cancel got 200 but the order is {orders[r.order_id]['status']}")
        unknown = [oid for oid in orders if oid not in client_ids]
        if len(unknown) > self.gave_up_posts:
            failures.append(f"{len(unknown)} orders the client never got (only {self.gave_up_posts} requests gave up): {unknown[:5]}")
        key_orders = Counter(k["order_id"] for k in keys if k["order_id"])
        for oid, n in key_orders.items():
            if n > 1:
                failures.append(f"order {oid} stored under {n} idempotency keys")
        for oid in orders:
            if key_orders.get(oid, 0) != 1:
                failures.append(f"order {oid} is not the result of exactly one Idempotency-Key (found {key_orders.get(oid, 0)})")
        if self.client_errors:
            failures += [f"unexpected 4xx: {e}" for e in self.client_errors[:5]]
        acks = sum(r.paid_ack for r in self.orders), sum(r.cancel_ack for r in self.orders)
        self.check("acknowledged orders, payments and cancellations are durable, none doubled", failures,
                   f"{len(self.orders)} orders acknowledged, {acks[0]} payments, {acks[1]} cancellations; {self.gave_up_posts} POSTs gave up")

        # 4. Orders and reservations agree.
        failures = []
        for oid, order in orders.items():
            lines = items[oid]
            res = reservations.get(oid)
            status = order["status"]
            if res is None:
                failures.append(f"order {oid} ({status}): products-service never saw it (no reservation row)")
                continue
            res_lines = {l["product_id"]: l["quantity"] for l in res["lines"]}
            expected = {"CONFIRMED": {"reserved"}, "PAID": {"sold"}}.get(status, {"released", "rejected"})
            if res["status"] not in expected:
                failures.append(f"order {oid} is {status} but its reservation is {res['status']}")
            if res["status"] in ("reserved", "sold", "rejected") and res_lines != lines:
                failures.append(f"order {oid}: reservation lines {res_lines} differ from order lines {lines}")
            if res["status"] == "released" and res_lines and res_lines != lines:
                failures.append(f"order {oid}: released lines {res_lines} differ from order lines {lines}")
            timed_out = status == "REJECTED" and order["reason"] == "timeout"
            if res["status"] == "released" and not res_lines and status != "CANCELLED" and not timed_out:
                failures.append(f"order {oid} is {status} ({order['reason']}) but products-service has only a release tombstone")
            if status == "REJECTED" and not timed_out and res["status"] != "rejected":
                failures.append(f"order {oid} was rejected by the inventory ({order['reason']}) but its reservation is {res['status']}")
            if res["status"] == "rejected" and status != "REJECTED" and status != "CANCELLED":
                failures.append(f"order {oid} is {status} but products-service rejected it")
        for oid in reservations:
            if oid not in orders:
                failures.append(f"reservation for unknown order {oid}")
        rs = Counter(r["status"] for r in reservations.values())
        self.check("orders and reservations agree (CONFIRMED=reserved, PAID=sold, others hold nothing)", failures,
                   f"reservations {dict(sorted(rs.items()))}")

        # 5. Stock conservation, from both sides; never negative; each movement applied once.
        failures = []
        held = defaultdict(int)
        moves = defaultdict(int)
        for res in reservations.values():
            for line in res["lines"]:
                if res["status"] in ("reserved", "sold"):
                    held[line["product_id"]] += line["quantity"]
                    moves[line["product_id"]] += 1
                elif res["status"] == "released":
                    moves[line["product_id"]] += 2
        held_by_orders = defaultdict(int)
        for oid, order in orders.items():
            if order["status"] in ("CONFIRMED", "PAID"):
                for pid, q in items[oid].items():
                    held_by_orders[pid] += q
        sold = 0
        for pid, info in self.products.items():
            row = products.get(pid)
            if row is None:
                failures.append(f"product {pid} vanished")
                continue
            if row["stock"] < 0:
                failures.append(f"product {pid}: negative stock {row['stock']}")
            if info["stock"] != row["stock"] + held[pid]:
                failures.append(f"product {pid}: initial {info['stock']} != stock {row['stock']} + held/sold by reservations {held[pid]}")
            if info["stock"] != row["stock"] + held_by_orders[pid]:
                failures.append(f"product {pid}: initial {info['stock']} != stock {row['stock']} + units of CONFIRMED/PAID orders {held_by_orders[pid]}")
            if row["version"] != 1 + moves[pid]:
                failures.append(f"product {pid}: version {row['version']} but {moves[pid]} stock movements recorded (a movement applied twice or lost)")
            sold += held[pid]
        self.check("stock conserved: initial = stock + reserved + sold; never negative; each movement once", failures,
                   f"{len(self.products)} products, {sum(i['stock'] for i in self.products.values())} units initially, {sold} held or sold")

        # 6. Order history: one valid chain per order, version = transitions + 1.
        failures = []
        allowed = {(None, "PENDING"), ("PENDING", "CONFIRMED"), ("PENDING", "REJECTED"), ("PENDING", "CANCELLED"),
                   ("CONFIRMED", "PAID"), ("CONFIRMED", "CANCELLED"), ("CONFIRMED", "EXPIRED")}
        for oid, order in orders.items():
            chain = history[oid]
            current = None
            for step in chain:
                if step["from_status"] != current or (step["from_status"], step["to_status"]) not in allowed:
                    failures.append(f"order {oid}: history {[ (h['from_status'], h['to_status']) for h in chain]}")
                    break
                current = step["to_status"]
            else:
                if current != order["status"] or order["version"] != len(chain):
                    failures.append(f"order {oid}: status {order['status']} v{order['version']} but history ends {current} after {len(chain)} rows")
        self.check("each order's history is one valid chain (no transition doubled)", failures, f"{sum(len(h) for h in history.values())} history rows")

        # 7. Exactly one inventory decision per order.placed; every event delivered exactly to its consumer.
        failures = []
        placed = Counter(e["payload"]["order_id"] for e in orders_outbox if e["event_type"] == "order.placed")
        decisions = Counter(
            e["payload"]["order_id"] for e in products_outbox if e["event_type"] in ("stock.reserved", "stock.rejected")
        )
        for oid in orders:
            if placed[oid] != 1:
                failures.append(f"order {oid}: {placed[oid]} order.placed events in the outbox")
            res = reservations.get(oid)
            tombstone = res is not None and res["status"] == "released" and not res["lines"]
            want = 0 if tombstone else 1
            if decisions[oid] != want:
                failures.append(f"order {oid}: {decisions[oid]} stock decisions (expected {want}; reservation {res and res['status']})")
        for oid in decisions:
            if oid not in orders:
                failures.append(f"stock decision for unknown order {oid}")
        for e in orders_outbox:
            if not e["published"]:
                failures.append(f"orders outbox {e['event_type']} {e['event_id']} never published")
            elif e["event_id"] not in products_inbox:
                failures.append(f"{e['event_type']} {e['event_id']} ({e['payload']}) never handled by products-service")
        for e in products_outbox:
            if not e["published"]:
                failures.append(f"products outbox {e['event_type']} {e['event_id']} never published")
            elif e["event_id"] not in orders_inbox:
                failures.append(f"{e['event_type']} {e['event_id']} ({e['payload']}) never handled by orders-service")
        self.check("one decision per order.placed; every event published and handled", failures,
                   f"{len(orders_outbox)} order events, {len(products_outbox)} inventory events, {sum(decisions.values())} decisions")

        # 8. The orders-side catalog copy converged on the products' stock and version.
        failures = []
        for pid in self.products:
            row, copy = products.get(pid), catalog.get(pid)
            if row and (copy is None or copy["stock"] != row["stock"] or copy["version"] != row["version"]):
                failures.append(f"product {pid}: products has stock {row['stock']} v{row['version']}, orders' copy {copy and (copy['stock'], copy['version'])}")
        self.check("orders' catalog copy converged", failures, f"{len(self.products)} products match")

        # 9. No dead letters (or each one explained).
        failures = []
        for entry_id, fields in REDIS(["XRANGE", self.prefix + "dead_letter_stream", "-", "+"]) or []:
            f = pairs(fields)
            failures.append(f"{entry_id}: {f.get('type')} from {f.get('origin_stream')} group {f.get('group')} after {f.get('attempts')} attempts: {f.get('error')}")
        self.check("dead_letter_stream empty", failures, "0 dead letters")

        # 10. No panic in any service log.
        failures = []
        for proc in self.procs.values():
            if proc.health_url is None:
                continue
            for line in proc.log_path.read_text(errors="replace").splitlines():
                if "panicked" in line:
                    failures.append(f"{proc.name}: {line.strip()[:300]}")
        self.check("no panic in the service logs", failures, "none")

        if self.harness_errors:
            self.check("harness ran without internal errors", [e.strip().splitlines()[-1] for e in self.harness_errors], "")

    def tamper(self) -> None:
        """CHAOS_TAMPER=1: corrupts the quiescent state the way the bugs we look for would, so the
        run must fail; proves the checks can fail."""
        o, p = self.dbs["orders"], self.dbs["products"]
        pid = next(iter(self.products))
        psql(p, f"UPDATE products SET stock = stock + 1 WHERE id = '{pid}'")  # a unit from nowhere
        paid = pg_value(o, "SELECT id FROM orders WHERE status = 'PAID' LIMIT 1")
        if paid:
            psql(o, f"UPDATE orders SET status = 'PENDING' WHERE id = '{paid}'")  # a stuck order
        psql(p, "DELETE FROM inbox WHERE event_id = (SELECT event_id FROM inbox LIMIT 1)")  # a lost event
        psql(p, "INSERT INTO outbox (stream, event_id, event_type, source, occurred_at, correlation_id, payload, published_at) "
                "SELECT stream, gen_random_uuid(), event_type, source, occurred_at, correlation_id, payload, now() "
                "FROM outbox WHERE event_type = 'stock.reserved' LIMIT 1")  # a second decision
        REDIS(["XADD", self.prefix + "dead_letter_stream", "*", "type", "order.placed", "error", "chaos tamper"])
        log(f"TAMPERED: +1 stock on {pid}, order {paid} back to PENDING, one inbox row deleted, "
            "one stock decision duplicated, one dead letter added")

    EXERCISED = {
        "retry scheduled": "handler failed; retry scheduled",
        "reclaimed": "reclaimed an idle entry",
        "handed back at shutdown": "leaving unfinished entries pending",
        "zombie's entries taken over": "entries in flight were claimed by another consumer",
        "ack retried": "ack failed; will retry",
        "duplicate order.placed ignored": "order.placed for an order already seen",
        "late reservation released": "late reservation; releasing it",
        "release before/without hold": "nothing held for this order",
        "relay backoff": "outbox relay failed; backing off",
        "dead-lettered": "handler failed for good",
    }

    def exercised(self) -> dict:
        counts = Counter()
        for proc in self.procs.values():
            if proc.health_url is None or not proc.log_path.exists():
                continue
            text = proc.log_path.read_text(errors="replace")
            for label, needle in self.EXERCISED.items():
                counts[label] += text.count(needle)
        return {k: v for k, v in counts.items() if v}

    # -- clean-up ---------------------------------------------------------------------------

    def cleanup(self) -> None:
        procs = [p for p in self.procs.values() if p.alive()]
        for proc in procs:
            proc.popen.send_signal(signal.SIGCONT)
        for proc in procs:
            if proc.health_url is not None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in procs:
            if proc.health_url is not None:
                try:
                    proc.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
        for proc in procs:
            if proc.health_url is None and proc.alive():
                proc.popen.kill()
                proc.popen.wait()
        for name in self.created_dbs:
            try:
                psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except Exception as error:
                log(f"could not drop {name}: {error}")
        self.paths = self.exercised()
        logs = ROOT / "chaos" / "last-run"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True, exist_ok=True)
        for path in self.dir.glob("*.log"):
            shutil.copy(path, logs / path.name)
        (logs / "faults.txt").write_text("\n".join(self.fault_log) + "\n")
        if KEEP:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main() -> int:
    run = Run()
    log(f"seed {SEED} (CHAOS_SEED={SEED} repeats the fault schedule and choices); run {run.run_id}")
    started = time.monotonic()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        run.setup()
        run.populate()
        run.workload()
        quiescent = run.quiesce()
        if TAMPER:
            run.tamper()
        run.invariants(quiescent)
    except KeyboardInterrupt:
        log("interrupted")
        run.results.append(("run completed", False, "interrupted"))
    except Exception:
        log("harness failure:\n" + traceback.format_exc())
        run.results.append(("run completed", False, "harness failure"))
    finally:
        run.cleanup()
    passed = sum(ok for _, ok, _ in run.results)
    failed = len(run.results) - passed
    print()
    print("Summary")
    for p in run.procs.values():
        print(f"  {p.name}: {p.sigkills} SIGKILL, {p.sigterms} SIGTERM, {p.freezes} SIGSTOP, {p.starts} starts, "
              f"{len(p.startup_failures)} refused start-ups, {len(p.crashes)} crashes")
    print(f"  PostgreSQL connection-drop bursts: {run.pg_terminations}")
    print(f"  paths exercised (log lines): {getattr(run, 'paths', {})}")
    fates = Counter(r.fate for r in run.orders)
    print(f"  orders acknowledged: {len(run.orders)} (intended fates {dict(fates)}); logs in chaos/last-run/")
    print(f"  total time {time.monotonic() - started:.0f} s (seed {SEED})")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
