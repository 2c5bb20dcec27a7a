"""The `kiezgraph` command line: validate, build, serve, …

Each command imports what it runs inside its function (start-up, and what a process holds):
`serve` must not load pyshacl, owlrl or the workbook readers (tests/test_architecture.py),
`--help` and `catalog` need none of the rest.
"""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from publisher.config import ConfigError, Settings, load_settings
from publisher.project import ORIGINS, ProjectError, find_project
from publisher.releases import Release, current_release
from publisher.source_types import SourceError

__all__ = ["main"]

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2


def _fail(message: str, code: int = EXIT_INPUT, german: str = "") -> NoReturn:
    click.echo((f"Fehler: {german}\n" if german else "") + f"error: {message}", err=True)
    sys.exit(code)


def _fail_source(exc: SourceError) -> NoReturn:
    """Unreadable input (2) or wrong cells (1): where, what, the fix; German first, once."""
    click.echo(exc.bilingual(), err=True)
    sys.exit(exc.exit_code)


class Context:
    """What every command shares: the config file and the flags that override it."""

    def __init__(self, config: str | None, overrides: dict):
        self.config = config
        self.overrides = overrides

    def settings(self, **flags):
        """Settings from defaults, config file, environment and these flags (None = not given)."""
        try:
            given = {k: v for k, v in flags.items() if v is not None}
            return load_settings(self.config, overrides={**self.overrides, **given})
        except ConfigError as exc:
            _fail(str(exc))

    def project(self, root: str | None):
        """The project folder from --root, the current folder or one above it, or the bundled
        copy; says on stderr which one it is, so nobody checks one folder believing another."""
        try:
            project = find_project(root)
        except ProjectError as exc:
            _fail(str(exc))
        german, english = ORIGINS[project.origin]
        click.echo(f"Projektordner: {project.root} ({german})\n"
                   f"project folder: {project.root} ({english})", err=True)
        return project


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (also KIEZGRAPH_CONFIG).")
@click.option("--base-uri", default=None, help="Base of the graph's IRIs (KIEZGRAPH_BASE_URI).")
@click.version_option(package_name="kiezgraph")
@click.pass_context
def main(ctx: click.Context, config: str | None, base_uri: str | None) -> None:
    """Nachbarschaftsarbeit in Pankow als Linked Open Data / Pankow's neighbourhood work as
    linked open data. Exit 0 OK, 1 Verstöße / violations, 2 unlesbar / unreadable input."""
    ctx.obj = Context(config, {"base_uri": base_uri})


def root_option(f):
    """--root DIR: the folder holding ontology/, data/ and shapes/."""
    return click.option("--root", type=click.Path(file_okay=False), default=None,
                        help="Folder holding ontology/, data/ and shapes/ "
                             "(default: here if it holds them, else the bundled copy).")(f)


def base_option(f):
    """--base-uri on the subcommand too, so it can be given after the command name."""
    return click.option("--base-uri", "sub_base_uri", default=None,
                        help="Base of the graph's IRIs (KIEZGRAPH_BASE_URI).")(f)


@main.command()
@root_option
@base_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
@click.option("--catalog", "check_catalog", is_flag=True,
              help="Check the DCAT-AP.de catalogue of the current build instead (needs "
                   "--dcat-shapes).")
@click.option("--dcat-shapes", type=click.Path(file_okay=False), default=None,
              help="Folder holding the DCAT-AP(.de) shapes and vocabularies "
                   "(e.g. ../shared/conformance).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Build folder whose catalogue --catalog checks (KIEZGRAPH_OUT).")
@pass_ctx
def validate(ctx: Context, root: str | None, sub_base_uri: str | None, fmt: str,
             check_catalog: bool, dcat_shapes: str | None, out: str | None) -> None:
    """Prüfen / check: exit 0 OK, 1 Verstöße / violations, 2 unlesbar / unreadable."""
    from publisher.sources import load_shapes, load_sources
    from publisher.validation import ValidationProcessError, validate_sources

    if check_catalog:
        settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out)
        _validate_catalog(ctx, settings, root, dcat_shapes)
    settings = ctx.settings(root=root, base_uri=sub_base_uri)
    project = ctx.project(root or settings.root)
    try:
        sources = load_sources(project, settings.base_uri)
        shapes = load_shapes(project, settings.base_uri)
    except SourceError as exc:
        _fail_source(exc)
    try:
        report = validate_sources(sources, shapes, settings.validation_processes,
                                  settings.validation_split_triples,
                                  settings.reasoning_max_triples)
    except ValidationProcessError as exc:
        _fail(f"cannot check the graph: {exc}")
    click.echo(report.render(fmt))
    sys.exit(EXIT_OK if report.conforms else EXIT_VIOLATIONS)


@main.command()
@root_option
@base_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (KIEZGRAPH_OUT, default ./build).")
@click.option("--static", "static", type=click.Path(file_okay=False), default=None,
              help="Also write every representation of every resource into this folder, "
                   "with an nginx configuration that serves them as the server does.")
@click.option("--static-url", default=None,
              help="Where the static export will be served (default: the base itself).")
@pass_ctx
def build(ctx: Context, root: str | None, sub_base_uri: str | None, out: str | None,
          static: str | None = None, static_url: str | None = None) -> None:
    """Prüfen, dann veröffentlichen. / Validate, then write a release and make it current."""
    settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out)
    result = _build_or_fail(ctx.project(root or settings.root), settings,
                            ("der letzte gute Build bleibt", "the last good build is unchanged"))
    release = result.release
    de, en = ("neu", "new content") if result.changed else ("unverändert", "content unchanged")
    click.echo(f"gebaut: {release.version} ({de}): {release.info['triples']} Tripel\nbuilt "
               f"{release.version} ({en}): {release.info['triples']} triples "
               f"in {result.seconds:.2f} s")
    click.echo(f"  {Path(release.path)}")
    click.echo(f"  current -> {release.build_id}")
    changes = release.info.get("changes")
    if changes is not None:
        click.echo(f"  Änderungen seit {changes['previous']}: {changes['summary']}")
        click.echo(f"  changes: +{changes['added']} / -{changes['removed']} triples")
    if static:
        from publisher.static import ExportError
        from publisher.web.export import export_static

        try:
            summary = export_static(settings, release, Path(static), url=static_url)
        except (ExportError, OSError) as exc:
            _fail(f"cannot write the static export: {exc}")
        click.echo(f"static export: {summary['documents']} documents, {summary['files']} "
                   f"files in {static}; nginx configuration in {Path(static) / 'nginx'}")


def ensure_release(ctx: Context, settings: Settings, root: str | None) -> Release:
    """The current build in settings.out; build the project first when there is none yet."""
    release = current_release(settings.out)
    if release is not None and release.info.get("base_uri") == settings.base_uri:
        return release
    # Built only when there is nothing to serve yet (else pyshacl & co. are never loaded).
    project = ctx.project(root or settings.root)
    click.echo(f"no build in {settings.out} yet: building {project.root} first", err=True)
    return _build_or_fail(project, settings, ("nichts zu zeigen", "nothing to serve")).release


def _build_or_fail(project, settings: Settings, then: tuple[str, str]):
    """Build, or say why not (German, then English; what follows: then) with its exit code."""
    from publisher.build import BuildRefused
    from publisher.build import build as run_build
    from publisher.validation import ValidationProcessError

    try:
        return run_build(project, settings, settings.out)
    except SourceError as exc:
        _fail_source(exc)
    except BuildRefused as exc:
        click.echo(exc.report.as_text(), err=True)
        _fail(f"build refused: the graph does not conform; {then[1]}", EXIT_VIOLATIONS,
              f"Build abgelehnt: der Graph erfüllt die Prüfregeln nicht; {then[0]}")
    except ValidationProcessError as exc:
        _fail(f"cannot check the graph: {exc}; {then[1]}",
              german=f"Prüfung nicht möglich: {exc}; {then[0]}")
    except (MemoryError, OSError) as exc:  # rdflib and pyshacl hold the whole graph (#22)
        if isinstance(exc, OSError) and exc.errno != errno.ENOMEM:
            _fail(f"cannot write the build: {exc}", german=f"Build nicht schreibbar: {exc}")
        _fail("not enough memory to build this graph (about 2 KB per triple are needed); "
              "the last build stays in place", german="nicht genug Arbeitsspeicher für "
              "diesen Graphen (etwa 2 KB je Tripel); der letzte Build bleibt bestehen")


@main.command()
@root_option
@base_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Build folder to serve from (KIEZGRAPH_OUT, default ./build).")
@click.option("--host", default=None, help="Address to listen on (KIEZGRAPH_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (KIEZGRAPH_PORT).")
@click.option("--store", default=None,
              help="External SPARQL endpoint to serve from (KIEZGRAPH_STORE).")
@click.option("--no-rewrite", "no_rewrite", is_flag=True, default=None,
              help="Send IRIs under the configured base, not the request's host.")
@click.option("--reload-on-change/--no-reload-on-change", "reload_on_change", default=None,
              help="Serve each new build once it checks out (the default; "
                   "KIEZGRAPH_RELOAD_ON_CHANGE); SIGHUP always reloads.")
@pass_ctx
def serve(ctx: Context, root, sub_base_uri, out, host, port, store, no_rewrite,
          reload_on_change) -> None:
    """Ausliefern: Linked Data, SPARQL, Katalog; neue Builds von selbst. / Serve Linked Data,
    SPARQL and the catalogue with a production server; new builds are taken up by themselves."""
    from publisher.store import BuildDamaged, StoreError
    from publisher.web.server import SERVERS, app_for, port_taken, run

    settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out, host=host, port=port,
                            store=store, rewrite_base=False if no_rewrite else None,
                            reload_on_change=reload_on_change)
    if settings.server not in SERVERS:
        _fail(f"unknown server {settings.server!r}: one of {', '.join(SERVERS)}")
    release = ensure_release(ctx, settings, root)
    try:
        app = app_for(settings, release)
    except StoreError as exc:  # a damaged build exits 1 (the data), a store unreachable 2
        _fail(str(exc), EXIT_VIOLATIONS if isinstance(exc, BuildDamaged) else EXIT_INPUT)
    busy = port_taken(settings.host, settings.port)  # before "serving on", not a traceback
    if busy:
        _fail(busy)
    click.echo(f"serving {release.version} on http://{settings.host}:{settings.port}/", err=True)
    run(app, settings)


@main.command()
@root_option
@base_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Build folder to load from (KIEZGRAPH_OUT, default ./build).")
@click.option("--store", default=None,
              help="SPARQL query endpoint of the store (KIEZGRAPH_STORE).")
@click.option("--update-endpoint", default=None,
              help="SPARQL 1.1 Update endpoint to write through (KIEZGRAPH_UPDATE_ENDPOINT).")
@click.option("--graph-store", default=None,
              help="Graph Store HTTP Protocol endpoint to write through "
                   "(KIEZGRAPH_GRAPH_STORE).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Triples sent per request.")
@pass_ctx
def load(ctx: Context, root, sub_base_uri, out, store, update_endpoint, graph_store,
         chunk_size) -> None:
    """In einen externen Store laden; Lesende wechseln, wenn er vollständig ist. / Load the
    current build into an external store; readers switch once it is complete.

    Zugangsdaten nur aus / credentials only from KIEZGRAPH_STORE_USER, KIEZGRAPH_STORE_PASSWORD.
    """
    from publisher.load import Writer, load_release
    from publisher.store import StoreError
    from publisher.store.remote import RemoteStore

    settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out, store=store,
                            update_endpoint=update_endpoint, graph_store=graph_store)
    if not settings.store:
        _fail("no store to load into: give --store URL (or KIEZGRAPH_STORE)")
    if not (settings.update_endpoint or settings.graph_store):
        settings = settings.replace(update_endpoint=settings.store)
    release = ensure_release(ctx, settings, root)
    reader = RemoteStore(settings.store, settings.base_uri, user=settings.store_user,
                         password=settings.store_password, timeout=max(settings.query_timeout,
                                                                       60.0))
    try:
        writer = Writer(update_endpoint=settings.update_endpoint,
                        graph_store=settings.graph_store, user=settings.store_user,
                        password=settings.store_password)
        click.echo(f"loading {release.version} ({release.info['triples']} triples) into "
                   f"{settings.store} through the {writer.protocol}", err=True)

        def progress(source: str, done: int, total: int) -> None:
            click.echo(f"  {done}/{total} triples ({source})", err=True)

        result = load_release(release, reader, writer, chunk_size=chunk_size,
                              progress=progress)
    except StoreError as exc:
        _fail(f"{exc}\nthe store still serves the release it served before")
    if result.unchanged:
        click.echo(f"{release.build_id} is already the store's complete current release")
        return
    click.echo(f"loaded {result.release.version}: {result.release.triples} triples in "
               f"{len(result.release.graphs)} graphs, {result.chunks} requests, "
               f"{result.seconds:.2f} s")
    click.echo(f"  current -> {result.release.iri}")
    if result.previous:
        click.echo(f"  kept the previous release {result.previous} for readers still on it")
    for old in result.dropped:
        click.echo(f"  dropped {old}")
    if result.published:
        click.echo(f"  published {result.published} graphs to the hardened store's readers")


@main.command("harden-sql")
@base_option
@pass_ctx
def harden_sql(ctx: Context, sub_base_uri) -> None:
    """SQL, das einen Virtuoso-Store härtet (mit isql als dba ausführen). / Print the SQL that
    hardens a Virtuoso store for kiezgraph (run it with isql as dba).

    Danach sehen Anonyme nur die Graphen, die `kiezgraph load` veröffentlicht hat, und Virtuoso
    verweigert seine bif:/sql:-Funktionen in Anfragen (SECURITY.md); Ladekonto:
    KIEZGRAPH_STORE_USER. / Anonymous readers then see only the graphs `kiezgraph load`
    published, and Virtuoso itself refuses its bif:/sql: functions in queries (SECURITY.md).
    The loader account is KIEZGRAPH_STORE_USER.
    """
    from publisher.store.hardening import harden_sql as script

    settings = ctx.settings(base_uri=sub_base_uri)
    try:
        click.echo(script(settings.store_user, settings.base_uri), nl=False)
    except ValueError as exc:
        _fail(str(exc))


def _validate_catalog(ctx: Context, settings: Settings, root: str | None,
                      shapes_dir: str | None) -> None:
    """Run the current build's catalogue through the DCAT-AP.de 3.0 and DCAT-AP 3 shapes."""
    from publisher.metadata.catalog import catalog_graph
    from publisher.metadata.dcat_check import (
        PROFILES,
        DcatShapesMissing,
        check_catalog,
        load_profile,
        load_vocabularies,
    )

    if not shapes_dir:
        _fail("--catalog needs --dcat-shapes DIR (the folder with dcat-ap/ and dcat-ap-de/)")
    release = ensure_release(ctx, settings, root)
    catalog = catalog_graph(settings.base_uri, release.info, settings)
    try:
        vocabularies = load_vocabularies(shapes_dir)
        checks = [check_catalog(catalog, load_profile(shapes_dir, name), vocabularies, name)
                  for name in PROFILES]
    except DcatShapesMissing as exc:
        _fail(str(exc))
    for check in checks:
        click.echo(check.as_text())
    sys.exit(EXIT_OK if all(c.conforms for c in checks) else EXIT_VIOLATIONS)


@main.command()
@base_option
@root_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Build folder (KIEZGRAPH_OUT, default ./build).")
@click.option("--berlin-json", "berlin_json", is_flag=False, flag_value="-", default=None,
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the Berlin Datenregister record as JSON to FILE (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["turtle", "xml", "json-ld"]),
              default="turtle", show_default=True, help="Format of the catalogue.")
@pass_ctx
def catalog(ctx: Context, sub_base_uri, root, out, berlin_json, fmt) -> None:
    """Katalog ausgeben: DCAT-AP.de oder der Eintrag fürs Berliner Datenregister. / Print the
    DCAT-AP.de catalogue of the current build, or its Berlin Datenregister record."""
    from publisher.metadata.berlin import BerlinRecordError, berlin_record
    from publisher.metadata.catalog import catalog_graph

    settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out)
    release = ensure_release(ctx, settings, root)
    if berlin_json is None:
        click.echo(catalog_graph(settings.base_uri, release.info, settings).serialize(format=fmt))
        return
    try:
        record = berlin_record(settings.base_uri, release.info, settings)
    except BerlinRecordError as exc:
        _fail(str(exc))
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    if berlin_json == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(berlin_json).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {berlin_json}: {exc.strerror}")
    click.echo(f"wrote {berlin_json}", err=True)


@main.group()
def sheet() -> None:
    """Tabellen für die Pflege. / Workbooks for maintainers: templates and exports."""


def _sheet_command(ctx: Context, kind: str, out: str, root: str | None,
                   sub_base_uri: str | None, export: bool) -> None:
    from publisher.sheets import ExportError, WorkbookError, mappings, write_kind
    from publisher.sources import load_sources

    settings = ctx.settings(root=root, base_uri=sub_base_uri)
    project = ctx.project(root or settings.root)
    if Path(out).suffix.lower() not in (".ods", ".xlsx"):
        _fail(f"--out {out}: must end in .ods or .xlsx")
    try:
        graph = load_sources(project, settings.base_uri).union()
        count = write_kind(mappings()[kind], graph, settings.base_uri, Path(out), export)
    except SourceError as exc:
        _fail(str(exc))
    except (ExportError, WorkbookError, OSError) as exc:
        _fail(f"cannot write {out}: {exc}")
    what = f"{count} row(s)" if export else "template, example on the sheet „Beispiel“"
    click.echo(f"wrote {out}: {kind}, {what}")


def _sheet_options(f):
    """What template and export take: KIND, --out FILE, --root and --base-uri."""
    from publisher.sheets.mapping import KINDS

    f = click.option("--out", required=True, type=click.Path(dir_okay=False),
                     help="Workbook to write (.ods or .xlsx).")(root_option(base_option(f)))
    return click.argument("kind", type=click.Choice(KINDS))(f)


@sheet.command()
@_sheet_options
@pass_ctx
def template(ctx: Context, kind: str, out: str, root: str | None,
             sub_base_uri: str | None) -> None:
    """Leere Tabelle für KIND, mit Beispielblatt / Write an empty workbook for KIND."""
    _sheet_command(ctx, kind, out, root, sub_base_uri, export=False)


@sheet.command()
@_sheet_options
@pass_ctx
def export(ctx: Context, kind: str, out: str, root: str | None,
           sub_base_uri: str | None) -> None:
    """Den Stand von KIND als Tabelle. / Write the current things of KIND as a workbook."""
    _sheet_command(ctx, kind, out, root, sub_base_uri, export=True)
