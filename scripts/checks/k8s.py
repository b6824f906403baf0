"""The rendered Kubernetes overlays against docs/deploy.md's promises, and the resource files a
kustomization lists."""

import os
from pathlib import Path

from ruamel.yaml import YAML

from .report import report
from .yamlfile import load_yaml

SERVICE_PROBES = {"readinessProbe": "/ready", "livenessProbe": "/health", "startupProbe": "/health"}


def container_policy(where, container, name, configmaps, shown):
    cname = container["name"]
    image = container.get("image", "")
    if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
        report(shown, 1, f"{where}: container {cname}: image {image} is not pinned to a tag")
    resources = container.get("resources") or {}
    if not (resources.get("requests") or {}).get("cpu") or not (resources.get("requests") or {}).get("memory"):
        report(shown, 1, f"{where}: container {cname} has no cpu and memory requests")
    if not (resources.get("limits") or {}).get("memory"):
        report(shown, 1, f"{where}: container {cname} has no memory limit")
    for probe in ("readinessProbe", "livenessProbe"):
        if probe not in container:
            report(shown, 1, f"{where}: container {cname} has no {probe}")
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
        if ref and not ref.get("optional") and ref["key"] not in configmaps.get(ref["name"], set()):
            report(shown, 1, f"{where}: env {env['name']} reads ConfigMap {ref['name']} key {ref['key']}, which is not defined")
    if name.endswith("-service"):
        paths = {p: ((container.get(p) or {}).get("httpGet") or {}).get("path") for p in SERVICE_PROBES}
        if paths != SERVICE_PROBES:
            report(shown, 1, f"{where}: probes should be readiness /ready, liveness and startup /health, not {paths}")


def cmd_k8s_policy(root, args):
    """k8s-policy RENDERED SHOWN OVERLAY: the rendered overlay (a multi-document YAML file) keeps
    docs/deploy.md's promises: probes, requests and memory limits on every container, pinned
    images, a migration-safe rollout for our Deployments, and every referenced ConfigMap key
    defined."""
    rendered, shown, production = args[0], args[1], args[2] == "production"
    yaml = YAML(typ="safe")
    docs = [d for d in yaml.load_all(Path(rendered).read_text()) if d]
    configmaps = {d["metadata"]["name"]: set(d.get("data") or {}) for d in docs if d.get("kind") == "ConfigMap"}
    secrets = {d["metadata"]["name"] for d in docs if d.get("kind") == "Secret"}
    services = {d["metadata"]["name"] for d in docs if d.get("kind") == "Service"}
    for doc in docs:
        kind, name = doc.get("kind"), doc["metadata"]["name"]
        where = f"{kind}/{name}"
        if kind == "Secret" and production:
            report(shown, 1, f"{where}: production secrets are created in the cluster, never committed")
        if kind == "ConfigMap" and name == "redis-acl":
            # kustomize reads no file outside k8s/: the Redis users are a copy, kept verbatim.
            for key in ("users.acl", "render-acl"):
                if (doc.get("data") or {}).get(key) != (root / "redis" / key).read_text():
                    report("k8s/base/redis-acl.yaml", 1, f"{where}: {key} differs from redis/{key} (copy it verbatim)")
        if kind not in ("Deployment", "StatefulSet"):
            continue
        spec = doc["spec"]
        for container in spec["template"]["spec"].get("containers", []):
            container_policy(where, container, name, configmaps, shown)
        if kind == "Deployment":
            rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
            if str(rolling.get("maxUnavailable")) != "0":
                report(shown, 1, f"{where}: rollingUpdate.maxUnavailable must be 0 (old pods serve until new ones are ready)")
        if name not in services:
            report(shown, 1, f"{where} has no Service of its name")
    if not production and not secrets:
        report(shown, 1, "the local overlay defines no Secret (marketplace-database)")
    print(f"{shown}: {len(docs)} resources checked against the deployment policies")


def cmd_k8s_resources(root, args):
    """k8s-resources DIR...: prints the resource files (not patches, not directories) the given
    kustomizations list."""
    seen = set()
    for directory in args:
        manifest = load_yaml(Path(directory) / "kustomization.yaml")
        for entry in manifest.get("resources") or []:
            path = os.path.normpath(Path(directory) / entry)
            if os.path.isfile(path) and path not in seen:
                seen.add(path)
                print(path)
