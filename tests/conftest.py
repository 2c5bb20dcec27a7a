"""Shared fixtures: settings, a build, the app, a test client, the CLI runner, a live server."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from publisher.build import build
from publisher.config import load_settings
from publisher.project import Project

# httpx gives up after 5 s unless told otherwise; on a busy two-core machine a cold request
# (a query worker starting, a document rendered for the first time) can take longer, and a
# test must not fail for that. Every default httpx client and call in the tests waits up to
# 60 s (the one shared default object, changed in place); tests that mean a limit pass their own.
for _part in ("connect", "read", "write", "pool"):
    setattr(httpx._config.DEFAULT_TIMEOUT_CONFIG, _part, 60.0)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
BASE = "https://w3id.org/kiezgraph/pankow/"


@pytest.fixture(scope="session")
def project() -> Project:
    """The knowledge graph shipped in this repository."""
    return Project(ROOT)


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory, project) -> Path:
    """One build of the shipped data, shared by the whole session (treat it as read-only)."""
    out = tmp_path_factory.mktemp("build")
    build(project, load_settings(env={}, overrides={"out": str(out)}), out)
    return out


@pytest.fixture(scope="session")
def release(build_dir):
    """The current release of the session's build."""
    from publisher.releases import current_release

    return current_release(build_dir)


@pytest.fixture(scope="session")
def settings(build_dir):
    """Default settings, isolated from the environment, serving the session's build."""
    return load_settings(env={}, overrides={"out": str(build_dir)})


@pytest.fixture(scope="session")
def app(settings, release):
    """The Flask app over the embedded store."""
    from publisher.web import create_app

    app = create_app(settings, release=release)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture()
def runner():
    """Click's CLI runner."""
    return CliRunner()


@pytest.fixture()
def workdir(tmp_path) -> Path:
    """A writable copy of the project's ontology/, data/ and shapes/, to break on purpose."""
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, tmp_path / part)
    return tmp_path


class LiveServer:
    """A real waitress server on a free loopback port, in a background thread."""

    def __init__(self, app):
        from waitress.server import create_server

        self.app = app
        self.server = create_server(app, host="127.0.0.1", port=0, threads=8,
                                    clear_untrusted_proxy_headers=True)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app):
    """The app behind a real HTTP server on a free port, for real clients."""
    with LiveServer(app) as server:
        yield server


# The markers of what a test needs (live, virtuoso, browser, slow), the fast loop (--fast),
# the watch that fails an expensive test without its marker, and the xdist groups: hooks from
# tests/markers.py. The Virtuoso fixtures live in their own module; imported here, not in each
# test module, so that a test session starts one Virtuoso, not one per module that uses it.
from tests.markers import (  # noqa: E402,F401
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_fixture_setup,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
)
from tests.virtuoso_server import loaded_virtuoso, virtuoso  # noqa: E402,F401
