"""A build with warnings is served (issue 23, item 5): a missing English label is a warning
that does not stop the build, so the release it makes must pass the server's checks too.

The report of such a build begins with the warning and ends with „OK: …“; the server's
reload check and /health read the whole report, not its first line. (Found by the "Done
when" test: a workbook row without an English label was built, then refused by the running
server, „its validation report does not say the graph conforms“.)
"""

from __future__ import annotations

import pytest

from publisher.cli import main
from publisher.releases import current_release
from publisher.reload import check_release

NO_ENGLISH_LABEL = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
<id/event/issue23-nur-deutsch> a schema:Event ;
    rdfs:label "Nur deutsch benannt (nur Test)"@de ;
    schema:name "Nur deutsch benannt (nur Test)"@de ;
    schema:startDate "2031-05"^^xsd:gYearMonth ;
    dcterms:source <https://www.berlin.de/ba-pankow/> .
"""


@pytest.mark.slow  # it runs `kiezgraph build`
def test_issue23_a_build_with_warnings_passes_the_servers_checks(runner, workdir, tmp_path):
    from publisher.config import load_settings
    from publisher.web import create_app

    (workdir / "data" / "zz-nur-deutsch.ttl").write_text(NO_ENGLISH_LABEL, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    release = current_release(out)
    assert release is not None
    report = (release.path / "validation.txt").read_text(encoding="utf-8")
    lines = report.strip().splitlines()
    assert "Warning" in lines[0] and "No English label" in report  # the warning comes first
    assert lines[-1].startswith("OK: the graph conforms")
    check_release(release)  # what the reloader asks before it swaps: no ReleaseRefused
    app = create_app(load_settings(env={}, overrides={"out": str(out)}), release=release)
    health = app.test_client().get("/health")
    assert health.status_code == 200 and health.get_json()["status"] == "ok", health.data
