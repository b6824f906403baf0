"""The environment compose gives a service, from the compose file and an env file."""

import re
import sys
from pathlib import Path

from .yamlfile import load_yaml


def read_env_file(path):
    values = {}
    if path and Path(path).exists():
        for line in Path(path).read_text().splitlines():
            m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
            if m:
                value = m.group(2).strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[m.group(1)] = value
    return values


INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}")


def interpolate(value, env):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$."""
    def one(m):
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        present = name in env
        val = env.get(name, "")
        if op in (":-", "-"):
            return val if (present and (val or op == "-")) else arg
        if op in (":?", "?"):
            if not present or (op == ":?" and not val):
                raise SystemExit(f"{name} is required: {arg}")
            return val
        return val
    parts = str(value).split("$$")
    return "$".join(INTERPOLATION.sub(one, part) for part in parts)


def compose_env(path, env_file, service):
    """The keygen job's shell command, or the service's environment as NUL-separated NAME=VALUE,
    as on a machine whose shell sets nothing else."""
    env = read_env_file(env_file)
    svc = load_yaml(path)["services"][service]
    if service == "keygen":
        return interpolate(svc["command"][-1], env)
    out = []
    for key, value in (svc.get("environment") or {}).items():
        if value is None:
            if key in env:
                out.append(f"{key}={env[key]}\0")
            continue
        out.append(f"{key}={interpolate(value, env)}\0")
    return "".join(out)


def cmd_compose_env(root, args):
    """compose-env FILE ENV-FILE SERVICE (ENV-FILE may be empty)."""
    sys.stdout.write(compose_env(*args))
