"""`tessera scan-pans`: the scanner on the command line, for an operator's dumps, WAL and logs."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import click

from tessera.pan_scan.scanner import normalize, scan

EXIT_CLEAN = 0
EXIT_FOUND = 1
EXIT_UNREADABLE = 2


@click.command("scan-pans")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--pan", "pans", multiple=True, metavar="NUMBER", help="A card number to look for (repeatable).")
@click.option(
    "--pans-file",
    type=click.File("r"),
    help="A file of card numbers to look for, one a line ('#' starts a comment).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes to scan with.")
def scan_pans(paths: tuple[Path, ...], pans: tuple[str, ...], pans_file: TextIO | None, workers: int) -> None:
    """Search files and folders for card numbers; print each hit masked (BIN + last 4).

    Without --pan or --pans-file, every Luhn-valid number in a card brand's range is reported. Exit
    status: 0 nothing found, 1 card numbers found, 2 nothing found but some paths could not be read.
    """
    listed = list(pans)
    if pans_file is not None:
        listed += [line.split("#", 1)[0].strip() for line in pans_file]
        listed = [line for line in listed if line]
    try:
        targets = {normalize(pan) for pan in listed} if listed else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--pan/--pans-file") from exc
    report = scan(paths, pans=targets, workers=workers)
    for hit in report.hits:
        click.echo(str(hit))
    for path, reason in report.errors:
        click.echo(f"{path}: not scanned: {reason}", err=True)
    click.echo(
        f"scanned {report.files_scanned} files, {report.bytes_scanned} bytes: {len(report.hits)} hits"
        + (f", {len(report.errors)} paths not readable" if report.errors else "")
        + (f", {len(report.vanished)} files deleted before they were read" if report.vanished else "")
    )
    code = EXIT_FOUND if report.hits else EXIT_UNREADABLE if report.errors else EXIT_CLEAN
    raise SystemExit(code)
