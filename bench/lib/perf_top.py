"""The top symbols of a `perf record -g` profile, as one JSON figure for RESULTS.md.

    perf_top.py <name> <perf.data> [<lines>]
"""
import json
import subprocess
import sys


def top_symbols(report_text, lines=15):
    """The first `lines` sample lines ("  12.34%  object  [.] symbol") of `perf report`."""
    rows = [line.rstrip() for line in report_text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [r for r in rows if "%" in r.split()[0]][:lines]


if __name__ == "__main__":
    name, data = sys.argv[1:3]
    out = subprocess.run(["perf", "report", "--stdio", "--no-children", "-g", "none", "--percent-limit", "0.5",
                          "--sort", "dso,sym",
                          "-i", data], capture_output=True, text=True, check=True)
    top = top_symbols(out.stdout, int(sys.argv[3]) if len(sys.argv) > 3 else 15)
    print(json.dumps({"kind": "profile", "name": name, "top": "\n".join(top)}))
