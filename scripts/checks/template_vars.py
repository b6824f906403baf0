"""The nginx template's ${VARIABLES}: substituted by the image and set for the frontend in
each compose file."""

import re
from pathlib import Path

from .report import report
from .yamlfile import environment_keys, load_yaml

# Template variables the image's entrypoint derives from another setting (15-real-ip.envsh).
DERIVED_TEMPLATE_VARS = {"NGINX_REAL_IP_FROM": "TRUSTED_PROXIES"}
# Template variables with a default in the image (frontend/Dockerfile's ENV); compose may set them.
IMAGE_DEFAULTED_TEMPLATE_VARS = {"NGINX_API_RATE", "NGINX_API_BURST"}


def cmd_template_vars(root, args):
    """Every ${VAR} the nginx template uses is substituted by the image (NGINX_ENVSUBST_FILTER in
    frontend/Dockerfile) and set for the frontend in each compose file (or the setting it is
    derived from), except those the image's entrypoint sets itself (NGINX_LOCAL_RESOLVERS, with
    NGINX_ENTRYPOINT_LOCAL_RESOLVERS on)."""
    template = Path(args[0])
    used = {}
    for number, line in enumerate(template.read_text().splitlines(), 1):
        for m in re.finditer(r"\$\{([A-Z][A-Z0-9_]*)\}", line):
            used.setdefault(m.group(1), number)
    text = (root / "frontend" / "Dockerfile").read_text()
    match = re.search(r'NGINX_ENVSUBST_FILTER="([^"]*)"', text)
    substituted = re.compile(match.group(1).replace("\\$", "$")) if match else None
    for var, number in sorted(used.items()):
        if substituted is None or not substituted.search(var):
            report(template, number, f"${{{var}}} is not in frontend/Dockerfile's NGINX_ENVSUBST_FILTER: the image would leave it as is")
    # Tuning settings the image defaults (ENV NAME=value) need not be set in compose.
    for var in IMAGE_DEFAULTED_TEMPLATE_VARS & set(used):
        if re.search(rf"^\s*(ENV\s+)?{var}=\S", text, re.M):
            used.pop(var)
        else:
            report(template, used[var], f"${{{var}}} has no default (ENV {var}=...) in frontend/Dockerfile")
    if re.search(r"\bNGINX_ENTRYPOINT_LOCAL_RESOLVERS=1\b", text):
        used.pop("NGINX_LOCAL_RESOLVERS", None)
    elif "NGINX_LOCAL_RESOLVERS" in used:
        report(template, used["NGINX_LOCAL_RESOLVERS"], "${NGINX_LOCAL_RESOLVERS} needs NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 in frontend/Dockerfile")
    for var in list(used):
        if var in DERIVED_TEMPLATE_VARS:
            used.setdefault(DERIVED_TEMPLATE_VARS[var], used.pop(var))
    for path, shown in zip(args[1::2], args[2::2]):
        data = load_yaml(path)
        frontend = (data.get("services") or {}).get("frontend") or {}
        keys = environment_keys(frontend)
        for var, number in sorted(used.items()):
            if var not in keys:
                report(template, number, f"${{{var}}} is not set for the frontend in {shown}")
    print("template variables: " + " ".join(sorted(used)))
