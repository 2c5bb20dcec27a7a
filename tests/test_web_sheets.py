"""Workbook templates over the web (issue 17): /sheets/KIND.ods|xlsx."""

from __future__ import annotations

import io

import pytest

from publisher.sheets.workbook import read_workbook


@pytest.mark.parametrize("suffix", ["ods", "xlsx"])
def test_issue17_template_download_has_the_served_names(client, tmp_path, suffix):
    response = client.get(f"/sheets/event.{suffix}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / f"t.{suffix}"
    path.write_bytes(response.data)
    book = read_workbook(path)
    assert book.sheets["kiezgraph"][1] == ["Art / kind", "event"]
    lists = [cell for row in book.sheets["Listen"] for cell in row]
    assert "Stadtteilzentrum Weißensee" in lists and "Berlin" in lists


def test_issue17_template_download_xlsx_has_drop_downs(client):
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(client.get("/sheets/stadtteilzentrum.xlsx").data))
    assert book["Stadtteilzentren"].data_validations.dataValidation


@pytest.mark.parametrize("path", ["/sheets/planet.ods", "/sheets/event.pdf",
                                  "/sheets/../event.ods"])
def test_issue17_unknown_templates_are_404(client, path):
    assert client.get(path).status_code == 404


def test_issue17_changes_page_links_the_templates(client):
    html = client.get("/changes").get_data(as_text=True)
    assert 'href="./sheets/event.ods"' in html and 'href="./sheets/organisation.xlsx"' in html
