"""The command line: exit codes, readable reports, and no tracebacks on bad input."""

from __future__ import annotations

import json

import pytest

from publisher.cli import main


def test_validate_passes_on_the_shipped_data(runner, project):
    result = runner.invoke(main, ["validate", "--root", str(project.root)])
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output


def test_validate_json_and_turtle(runner, project):
    result = runner.invoke(main, ["validate", "--root", str(project.root), "--format", "json"])
    assert json.loads(result.stdout)["conforms"] is True  # the folder line goes to stderr
    result = runner.invoke(main, ["validate", "--root", str(project.root), "--format", "turtle"])
    assert "sh:conforms true" in result.stdout


def _add(workdir, name, text):
    prefixes = ('@prefix org: <http://www.w3.org/ns/org#> .\n'
                '@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
                '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n'
                '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                '@prefix dcterms: <http://purl.org/dc/terms/> .\n')
    (workdir / "data" / name).write_text(prefixes + text, encoding="utf-8")


def test_broken_turtle_exits_2_with_file_and_line(runner, workdir):
    _add(workdir, "zz.ttl", "<id/organisation/x> a org:Organization \n<oops> .\n")
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 2
    assert "data/zz.ttl:7" in result.output and "Traceback" not in result.output


def test_wrong_date_is_a_violation(runner, workdir):
    _add(workdir, "zz.ttl", '<id/agreement/kooperationsvertrag-2022> '
                            'dcterms:date "05.05.2022" .\n')
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1
    assert "05.05.2022" in result.output and "data/" in result.output


def test_partner_without_label_is_a_violation(runner, workdir):
    _add(workdir, "zz.ttl", '<id/organisation/nameless> a org:Organization ; '
                            'dcterms:source <https://frei-zeit-haus.de/> .\n')
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1
    assert "nameless" in result.output and "data/zz.ttl:6" in result.output


def test_iri_outside_the_base_is_a_violation(runner, workdir):
    _add(workdir, "zz.ttl", '<https://example.org/org/elsewhere> a org:Organization ; '
                            'skos:prefLabel "Anderswo"@de ; rdfs:label "Anderswo"@de ; '
                            'dcterms:source <https://frei-zeit-haus.de/> .\n')
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1
    assert "elsewhere" in result.output


@pytest.mark.slow
def test_build_refuses_and_keeps_the_last_good_build(runner, workdir, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)]).exit_code == 0
    good = (out / "current").resolve()
    _add(workdir, "zz.ttl", '<id/organisation/nameless> a org:Organization .\n')
    result = runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)])
    assert result.exit_code == 1
    assert "last good build is unchanged" in result.output
    assert (out / "current").resolve() == good


def test_unknown_root_and_bad_settings_exit_2(runner, tmp_path):
    result = runner.invoke(main, ["validate", "--root", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no such folder" in result.output
    result = runner.invoke(main, ["--base-uri", "not-an-iri", "validate"])
    assert result.exit_code == 2 and "base_uri" in result.output


@pytest.mark.slow
def test_issue8_a_killed_validation_process_is_a_clear_error(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from bench.generate import generate
    from tests.test_validation import BASE, ROOT, _wait_for_child

    project = generate(ROOT, tmp_path / "project", 20_000, BASE).root
    out = tmp_path / "out"
    env = {**os.environ, "KIEZGRAPH_VALIDATION_PROCESSES": "2",
           "KIEZGRAPH_VALIDATION_SPLIT_TRIPLES": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "publisher", "build", "--root", str(project),
                             "--out", str(out)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        os.kill(_wait_for_child(proc.pid), signal.SIGKILL)
        _out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 2, err
    assert "error: cannot check the graph: validation process" in err
    assert "stopped by SIGKILL" in err and "last good build is unchanged" in err
    assert "Traceback" not in err
    assert not (out / "current").exists()


def _serve_in(folder, *args: str, port: int | None = None, env: dict | None = None):
    """`kiezgraph serve` started in `folder` (so the default `out = build` is relative)."""
    import os
    import subprocess
    import sys
    import tempfile

    from tests.test_reload import _free_port

    port = port or _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--port", str(port),
                             *args], cwd=folder, env={**clean, **(env or {})},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log
    return proc, f"http://127.0.0.1:{port}"


def _copy_build(build_dir, folder):
    """The session's build copied to folder/build, the default relative `out`."""
    import shutil

    shutil.copytree(build_dir, folder / "build", symlinks=True)


@pytest.mark.live
def test_issue15_every_download_answers_under_a_relative_out(build_dir, tmp_path):
    import re

    import httpx

    from tests.test_reload import _wait_health
    from tests.test_server import _stop

    _copy_build(build_dir, tmp_path)
    proc, url = _serve_in(tmp_path)  # no --out: the default, `build`, relative to tmp_path
    try:
        _wait_health(url, proc)
        listing = httpx.get(f"{url}/download/")
        assert listing.status_code == 200
        names = set(re.findall(r'href="([^"/:?#]+)"', listing.text))
        assert "SHA256SUMS" in names and len(names) > 10, names
        for name in sorted(names):
            answer = httpx.get(f"{url}/download/{name}")
            assert answer.status_code == 200, (name, answer.status_code)
            assert answer.content, name
    finally:
        _stop(proc)


def _refused_at_once(folder, port: int) -> str:
    """Start `kiezgraph serve` on a busy port; it must exit non-zero on its own, and what
    it printed is returned."""
    import subprocess

    from tests.test_server import _stop

    proc, _url = _serve_in(folder, port=port)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        _stop(proc)
        proc.log.seek(0)
        raise AssertionError("serve went on running on a busy port: "
                             + proc.log.read().decode("utf-8", "replace")[-2000:]) from None
    proc.log.seek(0)
    output = proc.log.read().decode("utf-8", "replace")
    assert proc.returncode != 0, output
    return output


@pytest.mark.live
def test_issue15_a_second_serve_on_a_port_in_use_fails_clearly(build_dir, tmp_path):
    from tests.test_reload import _wait_health
    from tests.test_server import _stop

    _copy_build(build_dir, tmp_path)
    first, url = _serve_in(tmp_path)
    try:
        _wait_health(url, first)
        output = _refused_at_once(tmp_path, int(url.rsplit(":", 1)[1]))
        assert "already in use" in output and "Traceback" not in output, output
        assert "serving" not in output, output
    finally:
        _stop(first)


@pytest.mark.live
def test_issue15_a_port_held_by_another_program_is_a_clear_error(build_dir, tmp_path):
    import socket

    _copy_build(build_dir, tmp_path)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        output = _refused_at_once(tmp_path, other.getsockname()[1])
    assert "already in use" in output and "Traceback" not in output, output
    assert "serving" not in output, output


def _sheet_row(path, **values):
    """Fill the example row of a workbook the CLI wrote (issue 17), by German column title."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    titles = [c.value for c in ws[1]]
    for title, value in values.items():
        ws.cell(row=2, column=titles.index(title) + 1, value=value)
    book.save(path)


@pytest.mark.slow
def test_issue17_sheet_template_fill_in_validate_build(runner, workdir, tmp_path):
    import datetime as dt

    book = workdir / "data" / "termine-buch.xlsx"
    result = runner.invoke(main, ["sheet", "template", "event", "--out", str(book),
                                  "--root", str(workdir)])
    assert result.exit_code == 0, result.output
    _sheet_row(book, **{"Kürzel": "kiezfest-buch-2026", "Titel": "Kiezfest Buch",
                        "Bezeichnung": None, "Datum": dt.date(2026, 6, 12),
                        "Quelle": "https://www.berlin.de/ba-pankow/"})  # not example.org (#23)
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "current" / "build.json").read_text())
    assert info["sources"][info["base_uri"] + "graph/data/termine-buch.xlsx"] \
        == "data/termine-buch.xlsx"
    built = info["build_id"]
    # a wrong cell: nothing is published, the last good build stays, the cell is named
    _sheet_row(book, **{"Datum": "32.13.2026"})
    result = runner.invoke(main, ["build", "--root", str(workdir), "--out", str(out)])
    assert result.exit_code == 1  # a wrong value is a violation; 2 is unreadable input (#23)
    assert ("data/termine-buch.xlsx › Veranstaltungen › Zeile 2 › Spalte „Datum“: „32.13.2026“ "
            "ist kein Datum") in result.output
    assert "Traceback" not in result.output
    assert json.loads((out / "current" / "build.json").read_text())["build_id"] == built


def test_issue17_shacl_violation_in_a_workbook_names_sheet_and_row(runner, workdir):
    book = workdir / "data" / "partner.xlsx"
    runner.invoke(main, ["sheet", "template", "organisation", "--out", str(book),
                         "--root", str(workdir)])
    # an org:Site needs a postal address, which this layout cannot give: a SHACL violation
    _sheet_row(book, **{"Kürzel": "neu", "Name": "Neuer Verein",
                        "Art": "Organisation, Standort",
                        "Quelle": "https://www.berlin.de/ba-pankow/"})
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1, result.output
    assert "data/partner.xlsx › Organisationen › Zeile 2: Violation" in result.output


def test_issue17_shacl_violation_of_a_column_names_the_column(runner, workdir):
    book = workdir / "data" / "partner.xlsx"
    runner.invoke(main, ["sheet", "template", "organisation", "--out", str(book),
                         "--root", str(workdir)])
    # a SKOS concept needs an English prefLabel too; the Name column gives the German one
    _sheet_row(book, **{"Kürzel": "neu", "Name": "Neuer Verein",
                        "Art": "Organisation, Begriff",
                        "Quelle": "https://www.berlin.de/ba-pankow/"})
    result = runner.invoke(main, ["validate", "--root", str(workdir)])
    assert result.exit_code == 1, result.output
    assert ("data/partner.xlsx › Organisationen › Zeile 2 › Spalte „Name“: Violation"
            in result.output), result.output


def test_issue17_sheet_export_and_bad_kind(runner, workdir, tmp_path):
    result = runner.invoke(main, ["sheet", "export", "event", "--out",
                                  str(tmp_path / "e.ods"), "--root", str(workdir)])
    assert result.exit_code == 0 and "4 row(s)" in result.output, result.output
    result = runner.invoke(main, ["sheet", "export", "planet", "--out",
                                  str(tmp_path / "e.ods"), "--root", str(workdir)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(main, ["sheet", "template", "event", "--out",
                                  str(tmp_path / "e.pdf"), "--root", str(workdir)])
    assert result.exit_code == 2 and "must end in .ods or .xlsx" in result.output
