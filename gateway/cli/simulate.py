"""`ors simulate …`: a phone in the terminal that posts exactly what the provider posts."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from urllib.parse import urlencode, urlsplit, urlunsplit

import click
import requests
from rich.console import Console
from rich.panel import Panel

from gateway.cli import context, voice_phone

NETWORK_CODE = "63902"  # Safaricom, as AT sends it


def register(group: click.Group) -> None:
    group.add_command(simulate)


@click.group(help="Simulate a citizen's phone against a running gateway.")
def simulate() -> None:
    pass


def with_token(url: str, token: str) -> str:
    """Add the configured AT webhook token to a URL that has none."""
    parts = urlsplit(url)
    if not token or "token=" in parts.query:
        return url
    query = "&".join(filter(None, [parts.query, urlencode({"token": token})]))
    return urlunsplit(parts._replace(query=query))


@simulate.command("ussd", help="Dial the USSD code: type answers, or pass them with --input.")
@click.option("--phone", required=True, help="The caller, e.g. +254700000001.")
@click.option("--url", default=None, help="The USSD hook (default: the local demo).")
@click.option("--input", "inputs", default=None, help="Answers to send in order, e.g. 1,1,2.")
@click.option("--service-code", default=None, help="Defaults to channels.ussd.service_code.")
def simulate_ussd(
    phone: str, url: str | None, inputs: str | None, service_code: str | None
) -> None:
    settings = context.settings()
    url = with_token(
        url or "http://127.0.0.1:5000/hooks/at/ussd", settings.secrets.at_webhook_token
    )
    console = Console(highlight=False)
    scripted = inputs.split(",") if inputs is not None else None
    form = {
        "sessionId": f"ATUid_{secrets.token_hex(16)}",
        "phoneNumber": phone,
        "serviceCode": service_code or settings.ussd_service_code,
        "networkCode": NETWORK_CODE,
    }
    answers: list[str] = []
    while True:
        body = _post(url, {**form, "text": "*".join(answers)})
        ended = not body.startswith("CON ")
        console.print(
            Panel(
                body[4:],
                title=f"{phone}  {form['serviceCode']}",
                width=34,
                subtitle="session ended" if ended else "reply",
            )
        )
        if ended:
            return
        answer = _next_answer(scripted, console)
        if answer is None:
            return
        answers.append(answer)


@simulate.command("ivr", help="Call the voice line: prompts printed, keys typed (Enter: silence).")
@click.option("--phone", required=True, help="The caller, e.g. +254700000001.")
@click.option("--provider", type=click.Choice(["at", "twilio"]), default="at", show_default=True)
@click.option("--url", default=None, help="The voice hook (default: the local demo's).")
@click.option(
    "--input", "inputs", default=None, help="Keys in order, e.g. 1,2,,1 (empty: silence)."
)
@click.option("--speak", is_flag=True, help="Also speak each prompt with espeak-ng, if installed.")
@click.option("--voice", default="en", show_default=True, help="espeak-ng voice for --speak.")
def simulate_ivr(
    phone: str, provider: str, url: str | None, inputs: str | None, speak: bool, voice: str
) -> None:
    settings = context.settings()
    console = Console(highlight=False)
    call: voice_phone.AtVoiceCall | voice_phone.TwilioVoiceCall
    if provider == "twilio":
        hook = url or "http://127.0.0.1:5000/hooks/twilio/voice"
        call = voice_phone.TwilioVoiceCall(hook, phone, settings)
    else:
        hook = with_token(
            url or "http://127.0.0.1:5000/hooks/at/voice", settings.secrets.at_webhook_token
        )
        call = voice_phone.AtVoiceCall(hook, phone, settings)
    speaker = shutil.which("espeak-ng") if speak else None
    if speak and speaker is None:
        console.print("(espeak-ng is not installed: prompts are printed only)")
    scripted = inputs.split(",") if inputs is not None else None
    step: voice_phone.Step | None = call.start()
    while step is not None:
        _hear(console, step.said, speaker, voice, f"{phone} calls {settings.ivr_number}")
        if not step.listens:
            break
        answer = _next_answer(scripted, console)
        if answer is None:
            console.print("(the caller hangs up)")
            break
        if answer:
            step = call.press(answer)
            continue
        if provider == "at":  # AT says the fallback itself before it redirects
            _hear(console, step.fallback, speaker, voice, "no key pressed")
        step = call.silence()
    call.hang_up()
    console.print("(call ended)")


def _hear(console: Console, said: list[str], speaker: str | None, voice: str, title: str) -> None:
    if not said:
        return
    console.print(Panel("\n".join(said), title=title, width=72))
    if speaker:
        subprocess.run([speaker, "-v", voice, " ".join(said)], check=False, capture_output=True)


def _post(url: str, form: dict[str, str]) -> str:
    try:
        response = requests.post(url, data=form, timeout=15)
    except requests.RequestException as exc:
        raise click.ClickException(
            f"cannot reach {url.split('?')[0]}: {type(exc).__name__}"
        ) from None
    if response.status_code != 200:
        raise click.ClickException(f"the gateway answered HTTP {response.status_code}")
    body = response.text
    if not body.startswith(("CON ", "END ")):
        raise click.ClickException(f"malformed USSD answer (no CON/END): {body[:60]!r}")
    return body


def _next_answer(scripted: list[str] | None, console: Console) -> str | None:
    if scripted is not None:
        if not scripted:
            console.print("(no more scripted input: the session stays open and will time out)")
            return None
        answer = scripted.pop(0)
        console.print(f"> {answer}")
        return answer
    try:
        return click.prompt(">", prompt_suffix=" ", default="", show_default=False)
    except (EOFError, click.exceptions.Abort):
        return None
