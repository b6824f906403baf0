"""scripts/stack --profile NAME [options] [-- command args...]

Starts the stack with the profile's settings and, with a command, runs it with the addresses in
its environment (STACK_URL, STACK_AUTH_URL, STACK_PRODUCTS_URL, STACK_ORDERS_URL,
STACK_REDIS_PREFIX, STACK_RUN_DIR, STACK_*_DATABASE, STACK_*_PID), then stops everything and
exits with the command's status; without one, runs until Ctrl-C (or SIGTERM: exit status 0) or
until a process dies (1). Exit status 3: the stack did not start (what failed is written to
<run dir>/failed); 1 also when a service had to be killed after SIGTERM.
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from .profiles import PROFILES, profile
from .stack import ROOT, Stack, StackError


def parse(argv):
    parser = argparse.ArgumentParser(prog="scripts/stack", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
    parser.add_argument("--release", action="store_true", help="the services of the release build")
    parser.add_argument("--bin-dir", help="where the service binaries are (default: the cargo target's debug/)")
    parser.add_argument("--run-dir", help="logs and nginx's files (default: a new temporary directory, kept)")
    parser.add_argument("--env-file", action="append", default=[], metavar="SERVICE=FILE",
                        help="settings for SERVICE (NAME=VALUE, NUL-separated or one a line)")
    parser.add_argument("--nginx-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for frontend/nginx/render-local (TRUSTED_PROXIES, NGINX_API_RATE, ...)")
    parser.add_argument("--static", help="the SPA nginx serves (default: frontend/dist)")
    parser.add_argument("--ready-file", help="once everything is ready, write the addresses here as shell assignments")
    parser.add_argument("--run-id", help="names the throw-away databases (<id>_auth, ...) and the key prefix (<id>:)")
    parser.add_argument("--label", default="[stack]", help="the prefix of the launcher's own lines")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    return args


def terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    args = parse(argv)
    signal.signal(signal.SIGTERM, terminate)
    # Also when started in the background of a script, where SIGINT comes ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    bin_dir = args.bin_dir
    if args.release and not bin_dir:
        bin_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
    chosen = profile(args.profile)
    stack = Stack(chosen, bin_dir=bin_dir, run_dir=args.run_dir, run_id=args.run_id, static_root=args.static, label=args.label,
                  env_files=dict(entry.split("=", 1) for entry in args.env_file),
                  nginx_env=dict(entry.split("=", 1) for entry in args.nginx_env))
    status = 0
    try:
        try:
            stack.start()
        except StackError as error:
            stack.log(f"FAILED: {error}")
            (stack.run_dir / "failed").write_text(error.part + "\n")
            return 3
        exports = stack.exports()
        if args.ready_file:
            Path(args.ready_file).write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in exports.items()))
        if chosen.banner:
            print(chosen.banner.format(url=stack.url, run_dir=stack.run_dir, **chosen.extra), flush=True)
        if args.command:
            status = subprocess.run(args.command, env={**os.environ, **exports}).returncode
        else:
            while (ended := stack.exited()) is None:
                time.sleep(0.5)
            stack.log(f"{ended[0]} exited with status {ended[1]}; see the logs in {stack.run_dir}")
            status = 1
    except (KeyboardInterrupt, SystemExit) as stopped:
        # Stopping a stack that runs until stopped is its normal end; a command cut short is not.
        if isinstance(stopped, KeyboardInterrupt):
            print(flush=True)  # past the terminal's ^C
        status = (130 if isinstance(stopped, KeyboardInterrupt) else stopped.code) if args.command else 0
    finally:
        stack.log("stopping")
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        clean = stack.stop()
        stack.log(f"logs kept in {stack.run_dir}")
    return status if clean or status else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
