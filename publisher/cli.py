"""The `kiezgraph` command line: validate, build, serve, …"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from publisher.config import ConfigError, load_settings
from publisher.project import ProjectError, find_project
from publisher.sources import SourceError

__all__ = ["main"]

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class Context:
    """What every command shares: the config file and the flags that override it."""

    def __init__(self, config: str | None, overrides: dict):
        self.config = config
        self.overrides = overrides

    def settings(self, **flags):
        """Settings from defaults, config file, environment and these flags (None = not given)."""
        try:
            return load_settings(self.config, overrides={**self.overrides, **flags})
        except ConfigError as exc:
            _fail(str(exc))

    def project(self, root: str | None):
        """The project folder from --root, the current folder, or the bundled copy."""
        try:
            return find_project(root)
        except ProjectError as exc:
            _fail(str(exc))


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (also KIEZGRAPH_CONFIG).")
@click.option("--base-uri", default=None, help="Base of the graph's IRIs (KIEZGRAPH_BASE_URI).")
@click.version_option(package_name="kiezgraph")
@click.pass_context
def main(ctx: click.Context, config: str | None, base_uri: str | None) -> None:
    """Publish the Pankow neighbourhood-work cooperation network as linked open data."""
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
@pass_ctx
def validate(ctx: Context, root: str | None, sub_base_uri: str | None, fmt: str) -> None:
    """Check the graph against the SHACL shapes: exit 0 conforms, 1 violations, 2 bad input."""
    from publisher.sources import load_shapes, load_sources
    from publisher.validation import validate_sources

    settings = ctx.settings(root=root, base_uri=sub_base_uri)
    project = ctx.project(root or settings.root)
    try:
        sources = load_sources(project, settings.base_uri)
        shapes = load_shapes(project, settings.base_uri)
    except SourceError as exc:
        _fail(str(exc))
    report = validate_sources(sources, shapes)
    click.echo(report.render(fmt))
    sys.exit(EXIT_OK if report.conforms else EXIT_VIOLATIONS)


@main.command()
@root_option
@base_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (KIEZGRAPH_OUT, default ./build).")
@pass_ctx
def build(ctx: Context, root: str | None, sub_base_uri: str | None, out: str | None) -> None:
    """Validate, then write a release (dumps, checksums, metadata) and make it current."""
    from publisher.build import BuildRefused
    from publisher.build import build as run_build

    settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out)
    project = ctx.project(root or settings.root)
    try:
        result = run_build(project, settings, settings.out)
    except SourceError as exc:
        _fail(str(exc))
    except BuildRefused as exc:
        click.echo(exc.report.as_text(), err=True)
        _fail("build refused: the graph does not conform; the last good build is unchanged",
              EXIT_VIOLATIONS)
    except OSError as exc:
        _fail(f"cannot write the build: {exc}")
    release = result.release
    state = "new content" if result.changed else "content unchanged"
    click.echo(f"built {release.version} ({state}): {release.info['triples']} triples "
               f"in {result.seconds:.2f} s")
    click.echo(f"  {Path(release.path)}")
    click.echo(f"  current -> {release.build_id}")


def ensure_release(ctx: Context, settings, root: str | None):
    """The current build in settings.out; build the project first when there is none yet."""
    from publisher.build import BuildRefused, current_release
    from publisher.build import build as run_build

    release = current_release(settings.out)
    if release is not None and release.info.get("base_uri") == settings.base_uri:
        return release
    project = ctx.project(root or settings.root)
    click.echo(f"no build in {settings.out} yet: building {project.root} first", err=True)
    try:
        return run_build(project, settings, settings.out).release
    except SourceError as exc:
        _fail(str(exc))
    except BuildRefused as exc:
        click.echo(exc.report.as_text(), err=True)
        _fail("the graph does not conform to the shapes; nothing to serve", EXIT_VIOLATIONS)


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
@pass_ctx
def serve(ctx: Context, root, sub_base_uri, out, host, port, store, no_rewrite) -> None:
    """Serve Linked Data, SPARQL and the catalogue with a production WSGI server."""
    from publisher.store import StoreError
    from publisher.web import create_app
    from publisher.web.server import run

    settings = ctx.settings(root=root, base_uri=sub_base_uri, out=out, host=host, port=port,
                            store=store, rewrite_base=False if no_rewrite else None)
    release = ensure_release(ctx, settings, root)
    try:
        app = create_app(settings, release=release)
    except StoreError as exc:
        _fail(str(exc))
    click.echo(f"serving {release.version} on http://{settings.host}:{settings.port}/", err=True)
    run(app, settings)
