"""A throwaway Virtuoso for the tests: own database folder, free loopback ports, isql for setup."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.waiting import until

__all__ = ["INI", "ISQL", "VIRTUOSO", "Virtuoso", "free_port", "loaded_virtuoso", "virtuoso",
           "virtuoso_or_skip"]

VIRTUOSO = "/usr/bin/virtuoso-t"
ISQL = "/usr/bin/isql-vt"
INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
# The load's user: may update through /sparql-auth, nothing else. dba stays for setup only.
LOADER_USER, LOADER_PASSWORD = "kiezgraph_loader", "load-secret"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def virtuoso_or_skip() -> None:
    """Skip the calling test when Debian's virtuoso-opensource is not installed."""
    missing = [p for p in (VIRTUOSO, ISQL) if not os.access(p, os.X_OK)]
    if missing or not INI.is_file():
        pytest.skip("Virtuoso not installed (apt-get install virtuoso-opensource; "
                    f"missing {', '.join(missing) or INI})")


def _ini(text: str, folder: Path, sql_port: int, http_port: int) -> str:
    """The packaged virtuoso.ini with our ports, our folder and nothing else listening."""
    out, section = [], ""
    db = {"DatabaseFile": "virtuoso.db", "ErrorLogFile": "virtuoso.log",
          "LockFile": "virtuoso.lck", "TransactionFile": "virtuoso.trx",
          "xa_persistent_file": "virtuoso.pxa"}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]")
        key = stripped.split("=", 1)[0].strip() if "=" in stripped else ""
        if section == "Database" and key in db:
            line = f"{key} = {folder / db[key]}"
        elif section == "TempDatabase" and key in ("DatabaseFile", "TransactionFile"):
            line = f"{key} = {folder / ('virtuoso-temp.' + db[key].rsplit('.', 1)[1])}"
        elif section == "Parameters" and key == "ServerPort":
            line = f"ServerPort = 127.0.0.1:{sql_port}"
        elif section == "Parameters" and key == "DirsAllowed":
            line = f"DirsAllowed = ., {folder}, /usr/share/virtuoso-opensource-7/vad"
        elif section == "Parameters" and key == "NumberOfBuffers":
            line = "NumberOfBuffers = 10000"
        elif section == "HTTPServer" and key == "ServerPort":
            line = f"ServerPort = 127.0.0.1:{http_port}"
        elif section == "URIQA" and key == "DefaultHost":
            line = f"DefaultHost = 127.0.0.1:{http_port}"
        elif section == "Plugins" and key.startswith("Load"):
            continue  # wiki hosting plugins: not needed, and they slow the start
        out.append(line)
    return "\n".join(out) + "\n"


class Virtuoso:
    """One Virtuoso server process over a database folder; start, stop, restart, isql."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sql_port, self.http_port = free_port(), free_port()
        self.ini = self.folder / "virtuoso.ini"
        self.ini.write_text(_ini(INI.read_text(encoding="utf-8"), self.folder,
                                 self.sql_port, self.http_port), encoding="utf-8")
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.sparql = f"{self.base}/sparql"
        self.sparql_auth = f"{self.base}/sparql-auth"
        self.graph_store = f"{self.base}/sparql-graph-crud-auth"
        self.user, self.password = LOADER_USER, LOADER_PASSWORD

    def start(self, timeout: float = 60.0) -> Virtuoso:
        """Start the server in the foreground of a child process; wait until /sparql answers."""
        log = (self.folder / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [VIRTUOSO, "+foreground", "+configfile", str(self.ini)],
            cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"virtuoso exited with {process.returncode}: "
                                   + self.log_tail())
            return self.answers()

        try:
            until(up, timeout, "virtuoso to answer", interval=0.2)
        except AssertionError:
            self.stop()
            raise RuntimeError(f"virtuoso did not answer within {timeout:.0f} s: "
                               + self.log_tail()) from None
        return self

    def answers(self) -> bool:
        """Whether the anonymous SPARQL endpoint answers an ASK."""
        url = self.sparql + "?query=ASK%7B%7D&format=text%2Fplain"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log, for error messages."""
        path = self.folder / "virtuoso.log"
        if not path.is_file():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def isql(self, *statements: str) -> str:
        """Run SQL statements as dba through isql-vt (test setup only, never the product)."""
        script = "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)
        result = subprocess.run(
            [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", "VERBOSE=OFF", "BANNER=OFF",
             "PROMPT=OFF", "ERRORS=STDOUT"],
            input=script, capture_output=True, text=True, timeout=60, check=False)
        if "*** Error" in result.stdout or result.returncode != 0:
            raise RuntimeError(f"isql failed: {result.stdout}{result.stderr}")
        return result.stdout

    def grant_loader(self) -> None:
        """Create the loader user, allowed to run SPARQL Update through /sparql-auth."""
        self.isql(
            f"DB.DBA.USER_CREATE('{self.user}', '{self.password}')",
            f"GRANT SPARQL_UPDATE TO \"{self.user}\"",
            f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{self.user}', 3)",
        )

    def remove(self) -> None:
        """Stop and delete the database folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """A running throwaway Virtuoso with a loader user; stopped and deleted after the session."""
    virtuoso_or_skip()
    server = Virtuoso(tmp_path_factory.mktemp("virtuoso")).start()
    try:
        server.grant_loader()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def loaded_virtuoso(virtuoso, release):
    """The session's Virtuoso holding the session's build as its current release (default base)."""
    from publisher.config import SETTINGS
    from publisher.load import Writer, load_release
    from publisher.store.remote import RemoteStore

    base = next(s.default for s in SETTINGS if s.name == "base_uri")
    writer = Writer(update_endpoint=virtuoso.sparql_auth, user=virtuoso.user,
                    password=virtuoso.password)
    load_release(release, RemoteStore(virtuoso.sparql, base), writer)
    return virtuoso
