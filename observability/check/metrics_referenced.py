"""The dashboards and alert rules under observability/ name only metrics the services export.

Exported names come from the Rust sources of the workspace (non-test code): the first string of
every `metrics::counter!` / `gauge!` / `histogram!` call and every `.count("...")` (stream-lib's
per-group counter helper). Referenced names come from each PromQL expression of the Grafana
dashboards (targets and `label_values(...)` variables) and of the Prometheus rule files; a
histogram's `_bucket`, `_sum` and `_count` series belong to its base name.

Usage: python3 metrics_referenced.py REPO_ROOT   (prints `file:line: message`, exits 1 on any)
"""
import json
import re
import sys
from pathlib import Path

# Series Prometheus itself adds to every scrape.
BUILT_IN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan",
}
EXPORTED = re.compile(
    r'(?:\b(?:counter|gauge|histogram)!\(\s*|\.count\(\s*)"([a-zA-Z_:][a-zA-Z0-9_:]*)"', re.S
)
TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{.*", re.S)


def exported_metrics(root):
    """{metric name: 'file:line' of its first definition} over the workspace's src/ trees."""
    found = {}
    for path in sorted(root.glob("*/src/**/*.rs")):
        if "target" in path.parts:
            continue
        text = TEST_MODULE.sub("", path.read_text())
        for match in EXPORTED.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(1), f"{path.relative_to(root)}:{line}")
    return found


def metric_names(expr):
    """The metric names a PromQL expression selects (not functions, labels or keywords)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    # Grafana's template functions: label_values(metric, label) names one metric.
    text = re.sub(r"\blabel_values\(\s*([^,)]+)(?:,[^)]*)?\)", r" \1 ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*", text):
        token = match.group(0)
        if text[match.end():].lstrip().startswith("(") or token.lower() in KEYWORDS:
            continue
        names.add(token)
    return names


def base_name(name, exported):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in exported:
            return name[: -len(suffix)]
    return name


def dashboard_exprs(path):
    """(expr, line) of every PromQL query in a dashboard; raises ValueError if it is not one."""
    text = path.read_text()
    dashboard = json.loads(text)
    if not isinstance(dashboard.get("panels"), list) or not dashboard.get("uid") or not dashboard.get("title"):
        raise ValueError("a dashboard needs uid, title and a list of panels")
    exprs = []

    def line_of(fragment):
        index = text.find(json.dumps(fragment)[1:-1])
        return text.count("\n", 0, index) + 1 if index >= 0 else 1

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels") or [])
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    exprs.append((target["expr"], line_of(target["expr"])))
    walk(dashboard["panels"])
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and query:
            exprs.append((query, line_of(query)))
    return exprs


def rule_exprs(path):
    """(expr, line) of every rule in a Prometheus rule file (read as text: `expr:` keys)."""
    lines = path.read_text().splitlines()
    exprs = []
    for number, line in enumerate(lines, 1):
        match = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2).strip()
        if value in ("|", ">", "|-", ">-"):
            body = []
            for following in lines[number:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following.strip())
            value = " ".join(body)
        exprs.append((value.strip("'\""), number))
    return exprs


def check(root):
    exported = exported_metrics(root)
    problems = []
    sources = [(p, dashboard_exprs) for p in sorted((root / "observability/grafana/dashboards").glob("*.json"))]
    sources += [(p, rule_exprs) for p in sorted((root / "observability/prometheus").glob("*.yml")) if not p.name.endswith(".test.yml") and p.name != "prometheus.yml"]
    if not sources:
        problems.append("observability/grafana/dashboards:1: no dashboard found")
    referenced = 0
    for path, read in sources:
        shown = path.relative_to(root)
        try:
            exprs = read(path)
        except (ValueError, json.JSONDecodeError) as error:
            problems.append(f"{shown}:1: {error}")
            continue
        for expr, line in exprs:
            for name in sorted(metric_names(expr)):
                referenced += 1
                if name not in BUILT_IN and base_name(name, exported) not in exported:
                    problems.append(f"{shown}:{line}: {name} is not exported by any service (no metrics::counter!/gauge!/histogram! names it)")
    return problems, referenced, len(exported)


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems, referenced, exported = check(root)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"dashboards and rules: {referenced} metric references, all among the {exported} metrics the services export")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
