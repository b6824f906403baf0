"""Starts the databases, the services and nginx of one profile; stops them and removes what the
run created."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .pg import Postgres
from .ports import free_ports, in_use
from .profiles import SERVICES

ROOT = Path(__file__).resolve().parents[2]
SHORT = {"auth-service": "auth", "products-service": "products", "orders-service": "orders"}


def export_name(part):
    """auth-service -> AUTH, products-service-2 -> PRODUCTS_2, nginx -> NGINX."""
    return part.replace("-service", "").replace("-", "_").upper()


class StackError(Exception):
    """The stack could not start; `part` names what failed (a service or nginx)."""

    def __init__(self, part, message):
        super().__init__(message)
        self.part = part


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except OSError:
        return False


class Stack:
    """`with Stack(profile) as stack:` starts everything, `stack.url` is nginx's address."""

    def __init__(self, profile, bin_dir=None, run_dir=None, env_files=None, nginx_env=None, static_root=None,
                 label="[stack]", ready_timeout=120, stop_within=10, redis_url=None, pg_url=None, run_id=None):
        self.profile = profile
        self.bin_dir = Path(bin_dir or Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug")
        self.run_id = run_id or f"{profile.name}_{int(time.time())}_{os.getpid()}"
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix=f"marketplace-{profile.name}."))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.env_files = env_files or {}
        self.nginx_env = nginx_env or {}
        self.static_root = Path(static_root) if static_root else ROOT / "frontend" / "dist"
        self.label = label
        self.ready_timeout = ready_timeout
        self.stop_within = stop_within
        self.pg = Postgres(pg_url or os.environ.get("DATABASE_HOST_URL", "postgres://postgres@127.0.0.1:5432"))
        local_redis = "redis://127.0.0.1:6379"
        self.redis_url = redis_url or (os.environ.get("REDIS_URL", local_redis) if profile.inherit_env else local_redis)
        self.redis_prefix = profile.redis_prefix if profile.redis_prefix is not None else f"{self.run_id}:"
        prefix = profile.databases or self.run_id
        self.databases = {service: f"{prefix}_{SHORT[service]}" for service in SERVICES}
        self.created = []
        self.procs = {}
        self.ports = {}

    # -- addresses -----------------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.ports['nginx']}"

    def service_url(self, service):
        return f"http://127.0.0.1:{self.ports[service]}"

    def exports(self):
        """What a command run against the stack gets in its environment."""
        return {
            "STACK_URL": self.url,
            **{f"STACK_{export_name(s)}_URL": self.service_url(s) for s in self.ports if s != "nginx"},
            "STACK_REDIS_PREFIX": self.redis_prefix,
            "STACK_RUN_DIR": str(self.run_dir),
            **{f"STACK_{SHORT[s].upper()}_DATABASE": self.pg.url(db) for s, db in self.databases.items()},
            **{f"STACK_{export_name(n)}_PID": str(proc.pid) for n, proc in self.procs.items()},
        }

    def log(self, message):
        print(f"{self.label} {message}", flush=True)

    # -- start ---------------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.choose_ports()
        self.create_databases()
        for service in SERVICES:
            self.start_service(service)
        for copy in self.copies():
            self.start_service(copy, service=copy.rsplit("-", 1)[0])
        self.start_nginx()

    def copies(self):
        """products-service-2, ...: the profile's extra replicas."""
        return [f"{service}-{n}" for service, count in self.profile.replicas.items() for n in range(2, count + 2)]

    def choose_ports(self, names=None):
        """The profile's fixed ports (each must be free), or free ones for `names`."""
        names = names or ["nginx", *SERVICES, *self.copies()]
        if self.profile.ports:
            self.ports = dict(self.profile.ports)
            for name, port in self.ports.items():
                if in_use(port):
                    raise StackError(name, f"port {port} ({name}) is already in use")
        else:
            self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        return self.ports

    def create_databases(self):
        """The profile's kept databases when missing, else the run's throw-away ones."""
        for database in self.databases.values():
            if self.profile.databases and self.pg.exists(database):
                continue
            self.log(f"creating database {database}")
            self.pg.create(database)
            if not self.profile.databases:
                self.created.append(database)

    def service_environment(self, service, copy=None):
        """The settings of `service`, or of its extra replica `copy` (only the common ones)."""
        env = dict(os.environ) if self.profile.inherit_env else {}
        env.update(self.profile.common_env)
        if copy is None:
            env.update(read_env_file(self.env_files[service]) if service in self.env_files else {})
            env.update(self.profile.service_env.get(service, {}))
        env.update({
            "PORT": str(self.ports[copy or service]),
            "DATABASE_URL": self.pg.url(self.databases[service]),
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": self.redis_prefix,
            "AUTH_URL": self.service_url("auth-service"),
        })
        return env

    def spawn(self, name, command, env):
        with open(self.run_dir / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                                start_new_session=True)
        return self.procs[name]

    def start_service(self, name, service=None):
        """Starts `name` (a service, or a copy of `service`) and waits for its /ready."""
        copy, service = (name, service) if service else (None, name)
        started = time.monotonic()
        proc = self.spawn(name, [str(self.bin_dir / service)], self.service_environment(service, copy))
        url = f"{self.service_url(name)}/ready"
        while not answers(url):
            if proc.poll() is not None:
                raise StackError(name, f"{name} exited during start-up (log: {self.run_dir}/{name}.log)")
            if time.monotonic() - started > self.ready_timeout:
                raise StackError(name, f"{name} is not ready after {self.ready_timeout} s (log: {self.run_dir}/{name}.log)")
            time.sleep(0.3)
        self.log(f"{name} ready on 127.0.0.1:{self.ports[name]} in {time.monotonic() - started:.1f}s")

    def start_nginx(self):
        """nginx with frontend/nginx/default.conf.template, rendered by frontend/nginx/render-local."""
        conf = self.run_dir / "nginx"
        env = {
            **os.environ, **self.profile.nginx_env, **self.nginx_env,
            "LISTEN_PORT": str(self.ports["nginx"]),
            "AUTH_UPSTREAM": f"127.0.0.1:{self.ports['auth-service']}",
            "PRODUCTS_UPSTREAM": f"127.0.0.1:{self.ports['products-service']}",
            "ORDERS_UPSTREAM": f"127.0.0.1:{self.ports['orders-service']}",
            "STATIC_ROOT": str(self.static_root),
        }
        if not (self.static_root / "index.html").exists():
            # No SPA built: a placeholder page, so nginx's root still answers.
            self.static_root = self.run_dir / "html"
            self.static_root.mkdir(exist_ok=True)
            (self.static_root / "index.html").write_text("<!doctype html><title>storefront</title>")
            env["STATIC_ROOT"] = str(self.static_root)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        flags = ["-e", str(conf / "error.log"), "-p", str(conf), "-c", str(conf / "nginx.conf")]
        for command in (["frontend/nginx/render-local", str(conf)], [nginx, "-t", "-q", *flags]):
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise StackError("nginx", f"{command[0]} fails: {(done.stderr or done.stdout).strip()}")
        proc = self.spawn("nginx", [nginx, *flags], env)
        started = time.monotonic()
        while not answers(f"{self.url}/"):
            if proc.poll() is not None or time.monotonic() - started > 15:
                error = (conf / "error.log").read_text() if (conf / "error.log").exists() else ""
                raise StackError("nginx", f"nginx does not answer on {self.ports['nginx']}: {error.strip()}")
            time.sleep(0.2)
        self.log(f"nginx on {self.url}")

    # -- watch, stop ---------------------------------------------------------------------------

    def exited(self):
        """(name, status) of the first process that has ended, or None."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self):
        """Stops the services one by one (each must be gone within `stop_within` seconds of
        SIGTERM, as docker stop allows), then nginx; drops the run's databases and keys.
        Returns False if a service had to be killed."""
        clean = True
        for name, proc in list(self.procs.items()):
            if name == "nginx":
                continue
            clean &= self.stop_one(name, proc)
        if "nginx" in self.procs:
            self.stop_one("nginx", self.procs["nginx"], quiet=True)
        self.procs.clear()
        self.drop_databases()
        if self.profile.redis_prefix is None:
            delete_keys(self.redis_url, self.redis_prefix)
        return clean

    def drop_databases(self):
        for database in self.created:
            try:
                self.pg.drop(database)
            except RuntimeError as error:
                self.log(f"could not drop {database}: {error}")
        self.created.clear()

    def stop_one(self, name, proc, quiet=False):
        if proc.poll() is not None:
            return True
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.stop_within)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.log(f"{name} still ran {self.stop_within} s after SIGTERM (killed)")
            return False
        if not quiet:
            self.log(f"{name} stopped {time.monotonic() - started:.1f}s after SIGTERM")
        return True


def read_env_file(path):
    """NAME=VALUE entries, NUL-separated (values may hold newlines) or one a line."""
    text = Path(path).read_text()
    entries = text.split("\0") if "\0" in text else text.splitlines()
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def delete_keys(redis_url, prefix):
    """Removes the keys under `prefix` (never an empty one) from the shared Redis."""
    if not prefix:
        return
    scan = subprocess.run(["redis-cli", "-u", redis_url, "--scan", "--pattern", f"{prefix}*"], capture_output=True, text=True)
    keys = scan.stdout.split()
    for i in range(0, len(keys), 500):
        subprocess.run(["redis-cli", "-u", redis_url, "del", *keys[i:i + 500]], capture_output=True)
    if scan.returncode != 0:
        print(f"[stack] could not remove the keys under {prefix}: {scan.stderr.strip()}", file=sys.stderr)
