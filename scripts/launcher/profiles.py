"""The settings each way of running the stack starts it with."""

import os
from dataclasses import dataclass, field

SERVICES = ("auth-service", "products-service", "orders-service")

DEV_BANNER = """
  Marketplace is running:  {url}/

  Demo accounts:  demo@demo.com / demotest,  demo2@demo.com / demotest  (or "Try the demo")
  Admin:          {admin_email} / {admin_password}
  Logs:           {run_dir}/*.log
  Demo payment cards: 4242 4242 4242 4242 (approved), 4000 0000 0000 0002 (declined)

  Press Ctrl-C to stop.
"""


@dataclass
class Profile:
    """How one kind of run starts the stack.

    ports: {"nginx"|service: port} fixed ports, or None for free ones (below the ephemeral range).
    databases: the database name prefix to create when missing and keep, or None for throw-away
    databases named after the run. redis_prefix: a fixed key prefix (keys kept), or None for the
    run's own (its keys removed at the end). inherit_env: whether the services see the caller's
    environment (a check gives them exactly the settings it means: PATH and those below).
    """

    name: str
    ports: dict | None = None
    databases: str | None = None
    redis_prefix: str | None = None
    inherit_env: bool = True
    common_env: dict = field(default_factory=dict)
    service_env: dict = field(default_factory=dict)
    banner: str = ""
    extra: dict = field(default_factory=dict)
    nginx_env: dict = field(default_factory=dict)
    # service -> how many more copies on the same database and streams, reached directly (not
    # through nginx); a copy gets only the common settings (no seeding, no demo users).
    replicas: dict = field(default_factory=dict)


def admin():
    return os.environ.get("ADMIN_EMAIL", "admin@demo.com"), os.environ.get("ADMIN_PASSWORD", "admintest")


def demo_env():
    """The settings of a local run with demo users and the demo catalog."""
    email, password = admin()
    return {
        "auth-service": {"COOKIE_SECURE": "false", "DEMO_USERS": "true", "ADMIN_EMAIL": email, "ADMIN_PASSWORD": password},
        "products-service": {"SEED_CATALOG": "true"},
    }


def dev():
    env = os.environ
    email, password = admin()
    return Profile(
        name="dev",
        ports={"nginx": int(env.get("DEV_PORT", 8080)), "auth-service": int(env.get("AUTH_PORT", 3030)),
               "products-service": int(env.get("PRODUCTS_PORT", 3020)), "orders-service": int(env.get("ORDERS_PORT", 3040))},
        databases=env.get("DEV_DATABASE_PREFIX", "marketplace"),
        redis_prefix=env.get("REDIS_KEY_PREFIX", ""),
        common_env={"RUST_LOG": env.get("RUST_LOG", "info,sqlx=warn"), "APP_ENV": "development"},
        service_env=demo_env(),
        banner=DEV_BANNER,
        extra={"admin_email": email, "admin_password": password},
    )


def e2e():
    """The browser tests (scripts/test-frontend): throw-away databases and key prefix, free ports,
    demo users and catalog, a second products-service, a 45 s reservation window (a scenario
    watches an unpaid order expire), limits for one fast client on one address."""
    env = demo_env()
    env["auth-service"].update({"RATE_LIMIT_SIGNUP_PER_IP": "1000", "RATE_LIMIT_LOGIN_PER_IP": "1000"})
    env["orders-service"] = {"RESERVATION_TTL_SECS": os.environ.get("E2E_RESERVATION_TTL_SECS", "45")}
    return Profile(
        name="e2e",
        common_env={"RUST_LOG": os.environ.get("RUST_LOG", "info,sqlx=warn"), "APP_ENV": "development"},
        service_env=env,
        nginx_env={"NGINX_API_RATE": "500", "NGINX_API_BURST": "1000"},
        replicas={"products-service": 1},
    )



def bench():
    """bench/run: throw-away databases, free ports; every limit that one load generator on one
    address would hit lifted (signup, login, open orders, nginx's per-address API limit)."""
    orders = {"MAX_OPEN_ORDERS_PER_BUYER": "100000000", "RATE_LIMIT_ORDERS_PER_BUYER": "100000000"}
    if os.environ.get("BENCH_ORDERS_DB_POOL"):
        orders["DATABASE_MAX_CONNECTIONS"] = os.environ["BENCH_ORDERS_DB_POOL"]
    return Profile(
        name="bench",
        common_env={"APP_ENV": "development"},
        service_env={
            "auth-service": {"COOKIE_SECURE": "false", "RATE_LIMIT_SIGNUP_PER_IP": "100000",
                             "RATE_LIMIT_LOGIN_PER_IP": "100000", "ACCESS_TOKEN_TTL_SECONDS": "3600"},
            "products-service": {"SEED_CATALOG": "true"},
            "orders-service": orders,
        },
        nginx_env={"NGINX_API_RATE": "1000000", "NGINX_API_BURST": "1000000"},
    )


def check():
    """check-static services: exactly the settings given (--env-file, from a compose file), with
    only the addresses swapped for throw-away databases, the run's key prefix and free ports."""
    return Profile(name="check", inherit_env=False, common_env={"PATH": "/usr/bin:/bin"})


def chaos(claim_idle_ms=10000, handler_deadline_ms=10000, reservation_ttl=15, pending_timeout=90, sweep_interval_ms=500,
          jwt_private_key=None):
    """The fault-injection run (chaos/harness, which brings its own Redis and replicas): short
    claim and reservation windows, no demo data, limits out of the workload's way."""
    consumer = {
        "STREAM_CLAIM_IDLE_MS": str(claim_idle_ms),
        "STREAM_HANDLER_DEADLINE_MS": str(handler_deadline_ms),
    }
    auth = {"DEMO_USERS": "false", "COOKIE_SECURE": "false",
            "RATE_LIMIT_SIGNUP_PER_IP": "10000", "RATE_LIMIT_LOGIN_PER_IP": "10000"}
    if jwt_private_key:
        # A fixed signing key: auth-service can be restarted without invalidating tokens.
        auth["JWT_PRIVATE_KEY"] = jwt_private_key
    return Profile(
        name="chaos",
        common_env={"RUST_LOG": os.environ.get("RUST_LOG", "info,sqlx=warn"), "APP_ENV": "development"},
        service_env={
            "auth-service": auth,
            "products-service": consumer,
            "orders-service": {
                **consumer,
                "RESERVATION_TTL_SECS": str(reservation_ttl),
                "PENDING_TIMEOUT_SECS": str(pending_timeout),
                "SWEEP_INTERVAL_MS": str(sweep_interval_ms),
                # Workers hold many unpaid orders at once, faster than any person: the per-buyer
                # limits must not change what the run exercises.
                "MAX_OPEN_ORDERS_PER_BUYER": "1000000",
                "RATE_LIMIT_ORDERS_PER_BUYER": "1000000",
            },
        },
    )


PROFILES = {"dev": dev, "e2e": e2e, "check": check, "chaos": chaos, "bench": bench}


def profile(name, **settings):
    """The profile `name`; the chaos profile takes its windows as keyword arguments."""
    return PROFILES[name](**settings)
