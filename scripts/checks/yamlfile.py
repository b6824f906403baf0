"""YAML loaded with line numbers, and JSON-schema validation that reports at the offending line."""

import contextlib
import json
from pathlib import Path

import check_jsonschema
import jsonschema
from ruamel.yaml import YAML

from .report import report

SCHEMAS = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor"


def load_yaml(path):
    yaml = YAML(typ="rt")
    with open(path) as handle:
        return yaml.load(handle)


def line_of(node, keys):
    """1-based line of the deepest locatable key along `keys` (merged keys have none)."""
    line = 1
    for key in keys:
        with contextlib.suppress(Exception):
            line = (node.lc.item(key) if isinstance(key, int) else node.lc.key(key))[0] + 1
        try:
            node = node[key]
        except Exception:
            break
    return line


def plain(node):
    return json.loads(json.dumps(node, default=str))


def schema_check(path, schema_name, shown=None):
    """Validates the YAML file at `path` against check-jsonschema's vendored schema `schema_name`."""
    shown = shown or path
    data = load_yaml(path)
    schema = json.loads((SCHEMAS / f"{schema_name}.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    for error in sorted(validator.iter_errors(plain(data)), key=lambda e: list(map(str, e.absolute_path))):
        deepest = jsonschema.exceptions.best_match(error.context) if error.context else error
        where = list(deepest.absolute_path) or list(error.absolute_path)
        message = deepest.message if len(deepest.message) < 240 else deepest.message[:240] + "..."
        report(shown, line_of(data, where), f"{schema_name}: at {'.'.join(map(str, where)) or '(top)'}: {message}")


def environment_keys(service):
    """The variable names a compose service's `environment` sets (map or list form)."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return set(env)
    return {str(item).split("=", 1)[0] for item in env}
