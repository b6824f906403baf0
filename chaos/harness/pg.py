"""PostgreSQL through `psql` (no driver: standard library only): one statement per call."""

from __future__ import annotations

import json
import subprocess


class Pg:
    """`Pg("postgres://postgres@127.0.0.1:5432")`; every method names its database."""

    def __init__(self, server_url: str):
        self.server_url = server_url

    def url(self, db: str, application_name: str | None = None) -> str:
        url = f"{self.server_url}/{db}"
        return f"{url}?application_name={application_name}" if application_name else url

    def argv(self, db: str, sql: str) -> list[str]:
        return ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url(db), "-c", sql]

    def run(self, db: str, sql: str, timeout: float = 60) -> str:
        done = subprocess.run(self.argv(db, sql), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"psql {db}: {done.stderr.strip()}")
        return done.stdout

    def rows(self, db: str, sql: str) -> list[dict]:
        return json.loads(self.run(db, f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) AS t"))

    def value(self, db: str, sql: str):
        return json.loads(self.run(db, f"SELECT to_json(({sql}))"))


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
