"""The command line: exit codes, readable reports, and no tracebacks on bad input."""

from __future__ import annotations

import json

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
