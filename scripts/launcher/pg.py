"""Databases on the PostgreSQL server, through psql."""

import subprocess


class Postgres:
    def __init__(self, server_url):
        self.server_url = server_url.rstrip("/")

    def url(self, database):
        return f"{self.server_url}/{database}"

    def sql(self, statement):
        done = subprocess.run(["psql", self.url("postgres"), "-qtAc", statement], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"psql: {statement}: {done.stderr.strip()}")
        return done.stdout.strip()

    def exists(self, database):
        return self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'") == "1"

    def create(self, database):
        self.sql(f"CREATE DATABASE {database}")

    def drop(self, database):
        self.sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
