"""Compose files against the compose-spec schema and the policies docs/deploy.md promises, and
the workflows against GitHub's workflow schema."""

import re

from .report import report
from .rust import workspace_members
from .yamlfile import line_of, load_yaml, schema_check

PINNED = re.compile(r"^[\w./${}:?-]+:(?!latest$)[\w.${}:?-]*\d[\w.${}:?-]*$")

# The capabilities a container may add back after cap_drop: [ALL], and why.
ALLOWED_CAPABILITIES = {
    "keygen": ("CHOWN",),  # hands the signing key it makes to uid 10001
    "caddy": ("NET_BIND_SERVICE",),  # listens on ports 80 and 443
}
REQUIRED_SERVICES = ("redis", "db_auth", "db_products", "db_orders", "auth-service", "products-service",
                     "orders-service", "frontend")
DATABASES = ("db_auth", "db_products", "db_orders")


def compose_policy(root, path, shown, production):
    data = load_yaml(path)
    services = data.get("services") or {}
    members = workspace_members(root)
    # One-shot set-up jobs (restart "no", awaited with service_completed_successfully) are the
    # only services allowed to end.
    one_shot = {name for name, service in services.items() if str(service.get("restart")) in ("no", "False")}
    for name, service in services.items():
        service_policy(root, data, name, service, shown, production, members, one_shot)
    for required in REQUIRED_SERVICES + (("caddy",) if production else ()):
        if required not in services:
            report(shown, line_of(data, ["services"]), f"service {required} is missing")
    for db in DATABASES + ("redis",):
        service = services.get(db) or {}
        nets = data.get("networks") or {}
        for network in service.get("networks") or []:
            if not (nets.get(network) or {}).get("internal"):
                report(shown, line_of(data, ["services", db, "networks"]), f"{db} is on network {network}, which is not internal")
        if not service.get("volumes"):
            report(shown, line_of(data, ["services", db]), f"{db} has no volume: its data would not survive")
    redis = services.get("redis") or {}
    command = " ".join(map(str, redis.get("command") or []))
    if "--appendonly yes" not in command:
        report(shown, line_of(data, ["services", "redis"]), "redis without --appendonly yes: streams would not survive a restart")
    if "--maxmemory " not in command + " " or "--maxmemory-policy noeviction" not in command:
        report(shown, line_of(data, ["services", "redis"]), "redis needs --maxmemory with --maxmemory-policy noeviction (noeviction alone sets no limit)")
    image = str(redis.get("image", ""))
    match = re.search(r":(\d+)", image)
    if not match or int(match.group(1)) < 7:
        report(shown, line_of(data, ["services", "redis", "image"]), "redis must be pinned to 7.0 or later")
    for db in DATABASES:
        image = str((services.get(db) or {}).get("image", ""))
        if not re.search(r"postgres:17(\.|-|$)", image):
            report(shown, line_of(data, ["services", db]), f"{db} must run PostgreSQL 17, not {image or 'nothing'}")


def service_policy(root, data, name, service, shown, production, members, one_shot):
    """The policies every service of a compose file keeps."""
    services = data.get("services") or {}
    where = ["services", name]
    for key in ("healthcheck", "restart"):
        if key not in service:
            report(shown, line_of(data, where), f"service {name} has no {key}")
    if name not in one_shot and service.get("restart") not in (None, "unless-stopped"):
        report(shown, line_of(data, where + ["restart"]), f"service {name}: restart should be unless-stopped")
    if name not in one_shot and (service.get("healthcheck") or {}).get("disable"):
        report(shown, line_of(data, where + ["healthcheck"]), f"service {name}: health check disabled")
    # Hardening (issue 13): no privilege gain, no capabilities beyond a short list, a
    # read-only root file system.
    if "no-new-privileges:true" not in [str(o).replace("=", ":") for o in service.get("security_opt") or []]:
        report(shown, line_of(data, where), f"service {name} lacks security_opt: [\"no-new-privileges:true\"]")
    if [str(c).upper() for c in service.get("cap_drop") or []] != ["ALL"]:
        report(shown, line_of(data, where), f"service {name} lacks cap_drop: [ALL]")
    for cap in service.get("cap_add") or []:
        if str(cap).upper().removeprefix("CAP_") not in ALLOWED_CAPABILITIES.get(name, ()):
            report(shown, line_of(data, where + ["cap_add"]), f"service {name} adds capability {cap}, which it is not allowed")
    if service.get("read_only") is not True:
        report(shown, line_of(data, where), f"service {name} lacks read_only: true (give what it writes a volume or a tmpfs)")
    image = service.get("image")
    if image is None:
        report(shown, line_of(data, where), f"service {name} has no image (pinned tag required)")
    elif not re.search(r":\$\{[A-Z_]+[:?}-]", str(image)) and not PINNED.match(str(image)):
        # Our own images are tagged by MARKETPLACE_VERSION; everything else by a version.
        report(shown, line_of(data, where + ["image"]), f"service {name}: image {image} is not pinned to a version")
    # The edge: nginx locally; in production Caddy, the TLS terminator, and nginx stays inside.
    edge = "caddy" if production else "frontend"
    # The observability profile's UIs (Grafana, Jaeger) may publish on the loopback address.
    loopback_only = "observability" in (service.get("profiles") or []) and all(
        str(port).startswith("127.0.0.1:") for port in service.get("ports") or [])
    if name != edge and "ports" in service and not loopback_only:
        report(shown, line_of(data, where + ["ports"]), f"service {name} publishes a port: only {edge} may (or an observability-profile service, on 127.0.0.1)")
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        report(shown, line_of(data, where + ["depends_on"]), f"service {name}: depends_on needs condition: service_healthy")
    else:
        for dep, spec in depends.items():
            wanted = "service_completed_successfully" if dep in one_shot else "service_healthy"
            if (spec or {}).get("condition") != wanted:
                report(shown, line_of(data, where + ["depends_on", dep]), f"service {name}: depends_on {dep} without condition: {wanted}")
            if dep not in services:
                report(shown, line_of(data, where + ["depends_on", dep]), f"service {name} depends on unknown service {dep}")
    build = service.get("build")
    if build is not None and service.get("pull_policy") != "build":
        report(shown, line_of(data, where + ["image"]), f"service {name} is built here: pull_policy: build, or `{image}` may be pulled from a registry instead")
    if production and build is not None:
        report(shown, line_of(data, where + ["build"]), f"service {name}: production runs pushed images, no build")
    if isinstance(build, dict):
        args = build.get("args") or {}
        crate = args.get("SERVICE") if isinstance(args, dict) else None
        if crate is not None and (crate not in members or not (root / crate / "src" / "main.rs").exists()):
            report(shown, line_of(data, where + ["build", "args", "SERVICE"]), f"service {name}: SERVICE={crate} is not a workspace binary crate")
        dockerfile = root / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
        if not dockerfile.exists():
            report(shown, line_of(data, where + ["build"]), f"service {name}: {dockerfile.relative_to(root)} does not exist")
    for network in service.get("networks") or []:
        if network not in (data.get("networks") or {}):
            report(shown, line_of(data, where + ["networks"]), f"service {name}: unknown network {network}")


def cmd_compose(root, args):
    """compose FILE SHOWN local|production ...: the schema, then the policies."""
    for path, shown, production in zip(args[0::3], args[1::3], args[2::3]):
        schema_check(path, "compose-spec", shown)
        compose_policy(root, path, shown, production == "production")


def cmd_workflow_schema(root, args):
    """workflow-schema FILE...: GitHub's workflow schema."""
    for path in args:
        schema_check(path, "github-workflows")
