"""`ors keys new` / `ors keys show`: the voucher signing key and the public keys kiosks need."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli import context
from gateway.voucher_keys import load_voucher_keys
from tcode.keys import SigningKey, public_key_base32, public_key_pem, write_private_key


def register(group: click.Group) -> None:
    group.add_command(keys)


@click.group(help="Voucher signing keys.")
def keys() -> None:
    pass


@keys.command("new", help="Create an Ed25519 signing key (PEM, mode 0600; never overwrites).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("voucher-key.pem"),
    show_default=True,
)
def keys_new(out: Path) -> None:
    key = SigningKey.generate()
    write_private_key(out, key)
    click.echo(f"wrote {out} (key id {key.key_id}); set ORS_VOUCHER_KEY={out.resolve()}")


@keys.command("show", help="Print the public keys that verify vouchers, with their key ids.")
def keys_show() -> None:
    voucher_keys = load_voucher_keys(context.settings())
    for key_id in voucher_keys.keyring.ids():
        pub = voucher_keys.keyring.get(key_id)
        assert pub is not None  # ids() lists only the keys the keyring holds
        current = " (signing)" if key_id == voucher_keys.signing.key_id else ""
        click.echo(f"key id {key_id}{current}")
        click.echo(f"base32 {public_key_base32(pub)}")
        click.echo(public_key_pem(pub).rstrip())
