"""The `ors` command line. Errors end in one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import sys

import click

from gateway.booking.catalog import CatalogError
from gateway.booking.errors import BookingError
from gateway.cli import keys, kiosk, serve, setup
from gateway.settings import ConfigError


@click.group(help="ORS Gateway: hospital appointments for any phone.")
def ors() -> None:
    pass


for module in (setup, serve, keys, kiosk):
    module.register(ors)


def main() -> None:
    try:
        ors.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, CatalogError, BookingError, FileExistsError, OSError) as exc:
        click.echo(f"ors: {exc}", err=True)
        sys.exit(2)
