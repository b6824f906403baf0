"""Files the Rust build embeds are inside the image build context (not excluded by .dockerignore)."""

import fnmatch
import os
import re

from .report import report
from .rust import crate_graph

INCLUDE = re.compile(r'(?:include_str|include_bytes|embed_migrations)!\(\s*"([^"]+)"')


def dockerignore_rules(text):
    """(negated, pattern) for each rule of a .dockerignore, in order."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.lstrip("!").rstrip("/")))
    return rules


def excluded(rules, rel):
    """Whether the repository-relative path `rel` is left out of the build context."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for negated, pattern in rules:
        if any(fnmatch.fnmatchcase(p, pattern) or fnmatch.fnmatchcase(p, pattern.removeprefix("**/"))
               or fnmatch.fnmatchcase(p.split("/")[-1], pattern.removeprefix("**/")) and pattern.startswith("**/")
               for p in prefixes):
            verdict = not negated
    return verdict


def cmd_context(root, args):
    """Files the Rust build reads through include_str!/include_bytes!/embed_migrations! must be in
    the image build context: not excluded by .dockerignore."""
    rules = dockerignore_rules((root / ".dockerignore").read_text())
    checked = 0
    for _, (member, _) in crate_graph(root).items():
        for path in sorted((root / member).rglob("*.rs")):
            if "target" in path.relative_to(root).parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                for m in INCLUDE.finditer(line):
                    base = root / member if "embed_migrations" in m.group(0) else path.parent
                    target = os.path.normpath(base / m.group(1))
                    rel = os.path.relpath(target, root)
                    checked += 1
                    if rel.startswith("..") or excluded(rules, rel):
                        report(path.relative_to(root), number, f"{rel} is outside the image build context (.dockerignore)")
    print(f"build inputs checked against .dockerignore: {checked}")
