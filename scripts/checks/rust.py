"""The workspace read from its manifests: members and the crate graph. (The settings each service
reads are declared in its src/config.rs; orders-service's tests/api/deployment.rs holds the
deployment files to them.)"""

import tomllib


def workspace_members(root):
    manifest = tomllib.loads((root / "Cargo.toml").read_text())
    return list(manifest["workspace"]["members"])


def crate_graph(root):
    """package name -> (dir, set of workspace packages it depends on, directly)."""
    crates = {}
    for member in workspace_members(root):
        manifest = tomllib.loads((root / member / "Cargo.toml").read_text())
        crates[manifest["package"]["name"]] = (member, set(manifest.get("dependencies", {})))
    return {name: (member, deps & set(crates)) for name, (member, deps) in crates.items()}
