"""Small repositories written into a temporary directory, and a way to run one check on them."""

import contextlib
import io
import tempfile
import textwrap
import unittest
from pathlib import Path

from checks import report


class Repo(unittest.TestCase):
    """A test case with `self.root`, an empty temporary repository, and helpers to fill it."""

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.root = Path(self._dir.name)
        self.write("Cargo.toml", '[workspace]\nmembers = []\n')

    def tearDown(self):
        self._dir.cleanup()

    def write(self, rel, text):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def crate(self, name, files, deps=()):
        """A workspace crate `name` with the given src files ({"main.rs": "..."})."""
        dependencies = "".join(f'{dep} = {{ path = "../{dep}" }}\n' for dep in deps)
        self.write(f"{name}/Cargo.toml", f'[package]\nname = "{name}"\n[dependencies]\n{dependencies}')
        for rel, text in files.items():
            self.write(f"{name}/src/{rel}", text)
        members = sorted({*self.members(), name})
        self.write("Cargo.toml", "[workspace]\nmembers = [" + ", ".join(f'"{m}"' for m in members) + "]\n")

    def members(self):
        import tomllib
        return tomllib.loads((self.root / "Cargo.toml").read_text())["workspace"]["members"]

    def run_check(self, command, *args):
        """Runs `command` on self.root: (problems counted, what it printed)."""
        report.reset()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            command(self.root, [str(a) for a in args])
        return report.count(), out.getvalue()

    def assertProblem(self, result, text):
        count, output = result
        self.assertGreater(count, 0, output)
        self.assertIn(text, output)

    def assertClean(self, result):
        count, output = result
        self.assertEqual(count, 0, output)
