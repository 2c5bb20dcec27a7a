"""Spreadsheets as sources: workbooks in data/ turned into RDF by declarative mappings."""

from publisher.sheets.convert import Problem
from publisher.sheets.layout import ExportError, write_kind
from publisher.sheets.mapping import KINDS, mappings
from publisher.sheets.source import SheetError, add_workbooks, workbook_files
from publisher.sheets.workbook import WorkbookError

__all__ = ["KINDS", "ExportError", "Problem", "SheetError", "WorkbookError", "add_workbooks",
           "mappings", "workbook_files", "write_kind"]
