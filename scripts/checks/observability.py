"""The observability compose profile: its mounts exist and Grafana's data sources are provisioned."""

import json
import re

from .report import report
from .yamlfile import line_of, load_yaml


def cmd_observability(root, args):
    """The observability profile mounts files that exist, and Grafana's provisioning points at
    the dashboards' mount and at data sources whose uid the dashboards use."""
    path = args[0]
    data = load_yaml(path)
    services = data.get("services") or {}
    for name in ("prometheus", "grafana", "jaeger"):
        service = services.get(name)
        if service is None:
            report(path, line_of(data, ["services"]), f"the observability profile lacks {name}")
            continue
        if "observability" not in (service.get("profiles") or []):
            report(path, line_of(data, ["services", name]), f"{name} is not in the observability profile (it would start by default)")
        for index, volume in enumerate(service.get("volumes") or []):
            source = str(volume).split(":")[0]
            if source.startswith("./") and not (root / source).exists():
                report(path, line_of(data, ["services", name, "volumes", index]), f"{name} mounts {source}, which does not exist")
    uids = set()
    for file in (root / "observability/grafana/provisioning/datasources").glob("*.yml"):
        uids |= {source.get("uid") for source in (load_yaml(file) or {}).get("datasources") or []}
    for file in (root / "observability/grafana/dashboards").glob("*.json"):
        for match in re.finditer(r'"uid":\s*"([^"]+)"', file.read_text()):
            used = match.group(1)
            if used not in uids and used != json.loads(file.read_text()).get("uid"):
                report(file.relative_to(root), file.read_text().count("\n", 0, match.start()) + 1, f"data source uid {used} is not provisioned")
