"""The `ors` command line. Errors end in one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.booking.catalogue.load import CatalogError
from gateway.booking.domain.errors import BookingError
from gateway.cli import (
    citizens,
    ivr,
    keys,
    kiosk,
    menus_check,
    outbox,
    refusals,
    serve,
    setup,
    simulate,
    staff,
    staff_accounts,
)
from gateway.settings import ConfigError


@click.group(help="ORS Gateway: hospital appointments for any phone.")
def ors() -> None:
    pass


for module in (setup, serve, keys, kiosk, outbox, simulate, menus_check, staff, citizens, ivr):
    module.register(ors)
staff_accounts.register(ors)


def main() -> None:
    try:
        ors.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BookingError as refused:  # every command's refusals read as the desk's sentences
        click.echo(f"ors: {refusals.sentence(refused)}", err=True)
        sys.exit(2)
    except (ConfigError, CatalogError, FileExistsError, OSError) as exc:
        click.echo(f"ors: {exc}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        if os.environ.get("ORS_DEBUG"):
            raise
        click.echo(f"ors: database: {_database_problem(exc)}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug or an outage: one line, the traceback only on request
        if os.environ.get("ORS_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(
            f"ors: unexpected {type(exc).__name__}: {first} (ORS_DEBUG=1 for details)", err=True
        )
        sys.exit(1)


def _database_problem(exc: SQLAlchemyError) -> str:
    """The first line of the driver's message, with the likely next step."""
    cause = getattr(exc, "orig", None) or exc
    line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if "no such table" in line or ("relation" in line and "does not exist" in line):
        return f"{line} (run `ors migrate` first?)"
    return line
