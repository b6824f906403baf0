"""`python -m checks <command> args...` (from scripts/, with the repository as the working
directory): runs one check; exit status 1 if it reported a problem, 2 for an unknown command."""

import sys
from pathlib import Path

from . import report
from .compose import cmd_compose, cmd_workflow_schema
from .compose_env import cmd_compose_env
from .context import cmd_context
from .k8s import cmd_k8s_policy, cmd_k8s_resources
from .observability import cmd_observability
from .rate_limit import cmd_rate_limit
from .template_vars import cmd_template_vars

COMMANDS = {
    "compose": cmd_compose,
    "observability": cmd_observability,
    "workflow-schema": cmd_workflow_schema,
    "template-vars": cmd_template_vars,
    "context": cmd_context,
    "compose-env": cmd_compose_env,
    "k8s-policy": cmd_k8s_policy,
    "k8s-resources": cmd_k8s_resources,
    "rate-limit": cmd_rate_limit,
}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m checks <{'|'.join(COMMANDS)}> args...", file=sys.stderr)
        return 2
    COMMANDS[argv[0]](Path.cwd(), argv[1:])
    return 1 if report.count() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
