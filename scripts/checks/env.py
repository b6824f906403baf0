"""Every environment variable the services read is set in each compose file and documented in
.env.example, whose uncommented values equal docker-compose.yml's defaults."""

import re

from .report import problem, report
from .rust import service_reads
from .yamlfile import environment_keys, line_of, load_yaml


def documented_variables(example):
    """The names .env.example shows, commented out or not."""
    documented = set()
    for line in example.read_text().splitlines():
        m = re.match(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", line)
        if m:
            documented.add(m.group(1))
    return documented


def cmd_env(root, args):
    """env FILE SHOWN ...: the compose files to hold against the services' reads."""
    example = root / ".env.example"
    documented = set()
    if example.exists():
        documented = documented_variables(example)
    else:
        report(".env.example", 1, "missing")
    by_service, unresolved = service_reads(root)
    for message in unresolved:
        problem(message)
    composes = list(zip(args[0::2], args[1::2]))
    all_vars = {}
    for service, reads in sorted(by_service.items()):
        for var, where in sorted(reads.items()):
            all_vars.setdefault(var, where)
        for path, shown in composes:
            data = load_yaml(path)
            svc = (data.get("services") or {}).get(service)
            if svc is None:
                report(shown, line_of(data, ["services"]), f"no service {service} (binary crate {service})")
                continue
            keys = environment_keys(svc)
            on_purpose = set((svc.get("x-unset-on-purpose") or {}).keys())
            anchor = ["services", service, "environment"] if "environment" in svc else ["services", service]
            for var, where in sorted(reads.items()):
                if var not in keys and var not in on_purpose:
                    report(shown, line_of(data, anchor), f"{service} does not set or default {var} (read at {where})")
            for var in sorted(keys - set(reads)):
                print(f"{shown}:{line_of(data, ['services', service, 'environment', var])}: warning: {service} sets {var}, which no code of it reads (yet?)")
    for var, where in sorted(all_vars.items()):
        if var not in documented:
            problem(f"{where}: {var} is read here but not documented in .env.example")
    # The values .env.example shows uncommented are the local defaults: they must match compose's.
    defaults = {}
    for number, line in enumerate((root / "docker-compose.yml").read_text().splitlines(), 1):
        for m in re.finditer(r"\$\{([A-Z][A-Z0-9_]*):?-([^}]*)\}", line):
            defaults.setdefault(m.group(1), (m.group(2), number))
    if example.exists():
        for number, line in enumerate(example.read_text().splitlines(), 1):
            m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
            if m and m.group(1) in defaults:
                value = m.group(2).strip().strip("'\"")
                default, where = defaults[m.group(1)]
                if value != default:
                    report(".env.example", number, f"{m.group(1)}={value}, but docker-compose.yml:{where} defaults it to {default!r}")
    count = sum(len(r) for r in by_service.values())
    print(f"checked {count} (service, variable) pairs: " + ", ".join(f"{s}: {' '.join(sorted(r))}" for s, r in sorted(by_service.items())))
