"""The workspace read from its sources: members, the crate graph, and the environment variables
each crate's non-test code reads."""

import re
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


TEST_GATE = re.compile(r'#\[cfg\((?:test|any\([^)]*\btest\b[^)]*\)|feature\s*=\s*"testing")\)\]')
MOD_DECL = re.compile(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")


def strip_test_code(text):
    """Blanks items gated on cfg(test) / feature "testing" (keeping line numbers); returns the
    text and the names of out-of-line modules so gated."""
    gated_modules = []
    out = list(text)
    for match in TEST_GATE.finditer(text):
        rest = text[match.end():]
        decl = MOD_DECL.match(rest)
        if decl:
            gated_modules.append(decl.group(1))
            continue
        brace = rest.find("{")
        semi = rest.find(";")
        if brace == -1 or (semi != -1 and semi < brace):
            continue
        depth, i = 0, match.end() + brace
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        for j in range(match.start(), min(i + 1, len(text))):
            if out[j] != "\n":
                out[j] = " "
    return "".join(out), gated_modules


ENV_NAME = r"([A-Z][A-Z0-9_]*)"
READ_PATTERNS = [
    re.compile(r"\benv::var(?:_os)?\(\s*\"" + ENV_NAME + r"\""),  # std::env::var("X")
    re.compile(r"\b(?:try_)?from_env\(\s*\"" + ENV_NAME + r"\""),  # EnvFilter::from_env("X")
    re.compile(r"#\[arg\([^\]]*\benv\s*=\s*\"" + ENV_NAME + r"\""),  # clap: #[arg(env = "X")]
    re.compile(r"\b(?!set_|remove_)\w*(?:env|var)\w*\(\s*\"" + ENV_NAME + r"\""),  # helpers: env_or("X", ..)
]
# Settings modules read through their own helpers (`parse(&var, "PORT", 3030)`, `flag("X")`), so
# there every whole string literal that looks like an environment variable name counts as one.
CONFIG_LITERAL = re.compile(r"\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)\"")
CONST_READ = re.compile(r"\benv::var(?:_os)?\(\s*&?([A-Z][A-Z0-9_]*)\s*\)")
CONST_DEF = re.compile(r"\bconst\s+([A-Z][A-Z0-9_]*)\s*:\s*&(?:'static\s+)?str\s*=\s*\"([^\"]+)\"")
DEFAULT_ENV = re.compile(r"\b(?:try_)?from_default_env\(")


def rust_files(root, member):
    """src/**/*.rs of a crate, minus modules declared under a test gate and minus src/bin/ (other
    binaries, e.g. stream-lib's stream-admin CLI: not part of any service)."""
    files, skipped = [], set()
    for path in sorted((root / member / "src").rglob("*.rs")):
        if (root / member / "src" / "bin") in path.parents:
            continue
        text, gated = strip_test_code(path.read_text())
        base = path.parent if path.name in ("lib.rs", "main.rs", "mod.rs") else path.with_suffix("")
        for name in gated:
            skipped.add(base / f"{name}.rs")
            skipped.add(base / name)
        files.append((path, text))
    return [(p, t) for p, t in files if p not in skipped and not any(s in p.parents for s in skipped)]


def is_service(root, member):
    """A crate whose binary compose runs: it has src/main.rs and a service of its name."""
    return (root / member / "src" / "main.rs").exists() and member.endswith("-service")


def env_reads(root):
    """package -> {VAR: first 'file:line' reading it}, from the non-test source of each crate.
    A library crate's src/main.rs is its own binary, not linked into the services: left out."""
    reads = {}
    unresolved = []
    for name, (member, _) in crate_graph(root).items():
        found = {}
        files = rust_files(root, member)
        if (root / member / "src" / "lib.rs").exists() and not is_service(root, member):
            files = [(p, t) for p, t in files if p != root / member / "src" / "main.rs"]
        consts = {}
        for _, text in files:
            consts.update(dict(CONST_DEF.findall(text)))
        for path, text in files:
            rel = path.relative_to(root)
            is_config = path.stem in ("config", "settings") or "config" in path.parent.name
            for number, line in enumerate(text.splitlines(), 1):
                if line.lstrip().startswith("//"):
                    continue
                names = [m.group(1) for pattern in READ_PATTERNS for m in pattern.finditer(line)]
                if is_config:
                    names += CONFIG_LITERAL.findall(line)
                for m in CONST_READ.finditer(line):
                    if m.group(1) in consts:
                        names.append(consts[m.group(1)])
                    else:
                        unresolved.append(f"{rel}:{number}: env var name {m.group(1)} is not a const &str in this crate")
                if DEFAULT_ENV.search(line):
                    names.append("RUST_LOG")
                for var in names:
                    if var.startswith("TEST_") or var.startswith("CARGO_"):
                        continue
                    found.setdefault(var, f"{rel}:{number}")
        reads[name] = found
    return reads, unresolved


def service_reads(root):
    """compose service (= binary crate) -> {VAR: where}, shared crates' reads included."""
    graph = crate_graph(root)
    reads, unresolved = env_reads(root)
    result = {}
    for name, (member, _) in graph.items():
        if not is_service(root, member):
            continue
        seen, stack, merged = set(), [name], {}
        while stack:
            crate = stack.pop()
            if crate in seen:
                continue
            seen.add(crate)
            for var, where in reads.get(crate, {}).items():
                merged.setdefault(var, where)
            stack.extend(graph[crate][1])
        result[name] = merged
    return result, unresolved
