"""The Berlin Datenregister record validates against Berlin's schema and licence list."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from publisher.cli import main
from publisher.metadata.berlin import BerlinRecordError, berlin_record

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" \
    / "berlin-datenregister"
BASE = "https://w3id.org/kiezgraph/pankow/"


@pytest.fixture(scope="module")
def schema() -> dict:
    """Berlin Open Data Schema 2.4 from the conformance folder."""
    path = SCHEMAS / "berlin_od_schema.json"
    if not path.is_file():
        pytest.skip(f"no Berlin schema at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def test_record_validates(schema, release, settings):
    record = berlin_record(BASE, release.info, settings)
    jsonschema.Draft4Validator(schema).validate(record)
    licences = json.loads((SCHEMAS / "berlin-od-portal-licenses.json").read_text())
    assert record["license_id"] in {entry["id"] for entry in licences}
    assert record["date_released"] == release.info["issued"]
    assert [r["url"] for r in record["resources"] if r["format"] == "SPARQL"] == [BASE + "sparql"]


def test_a_record_without_required_fields_is_refused_by_the_schema(schema, release, settings):
    record = berlin_record(BASE, release.info, settings)
    del record["license_id"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(record)


def test_licence_without_berlin_id_is_an_error(release, settings):
    with pytest.raises(BerlinRecordError, match="no id in Berlin"):
        berlin_record(BASE, release.info, settings.replace(
            license="http://dcat-ap.de/def/licenses/other-closed"))


def test_cli_writes_the_record(schema, runner, build_dir, tmp_path):
    target = tmp_path / "berlin.json"
    result = runner.invoke(main, ["catalog", "--out", str(build_dir), "--berlin-json",
                                  str(target)], env={"KIEZGRAPH_CONFIG": ""})
    assert result.exit_code == 0, result.output
    jsonschema.Draft4Validator(schema).validate(json.loads(target.read_text()))


def test_cli_refuses_a_licence_berlin_does_not_list(runner, build_dir):
    result = runner.invoke(main, ["catalog", "--out", str(build_dir), "--berlin-json"],
                           env={"KIEZGRAPH_LICENSE": "http://dcat-ap.de/def/licenses/other"})
    assert result.exit_code == 2
    assert "no id in Berlin" in result.output
