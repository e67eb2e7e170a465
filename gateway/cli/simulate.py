"""`ors simulate …`: a phone in the terminal that posts exactly what the provider posts."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

import click
import requests
from rich.console import Console
from rich.panel import Panel
from sqlalchemy.orm import Session, sessionmaker

from gateway.cli import context, demo_url, voice_phone
from gateway.messaging.outbox import OutboxEntry, recent
from gateway.settings import Settings

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
@click.option("--url", default=None, help="The USSD hook (default: the running demo's).")
@click.option("--input", "inputs", default=None, help="Answers to send in order, e.g. 1,1,2.")
@click.option("--service-code", default=None, help="Defaults to channels.ussd.service_code.")
def simulate_ussd(
    phone: str, url: str | None, inputs: str | None, service_code: str | None
) -> None:
    settings = context.settings()
    url = with_token(url or _demo(settings, "/hooks/at/ussd"), settings.secrets.at_webhook_token)
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
@click.option("--url", default=None, help="The voice hook (default: the running demo's).")
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
        hook = url or _demo(settings, "/hooks/twilio/voice")
        call = voice_phone.TwilioVoiceCall(hook, phone, settings)
    else:
        hook = with_token(
            url or _demo(settings, "/hooks/at/voice"), settings.secrets.at_webhook_token
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


@simulate.command("sms", help="Send one inbound SMS (e.g. STATUS, CANCEL 4829135575, HELP).")
@click.option("--phone", required=True, help="The sender, e.g. +254700000001.")
@click.argument("text", nargs=-1, required=True)
@click.option("--provider", type=click.Choice(["at", "twilio"]), default="at", show_default=True)
@click.option("--url", default=None, help="The SMS hook (default: the running demo's).")
@click.option("--wait", default=5.0, show_default=True, help="Seconds to wait for an AT reply.")
def simulate_sms(
    phone: str, text: tuple[str, ...], provider: str, url: str | None, wait: float
) -> None:
    settings = context.settings()
    console = Console(highlight=False)
    body = " ".join(text)
    if provider == "twilio":
        hook = url or _demo(settings, "/hooks/twilio/sms")
        form, headers = twilio_sms_form(settings, hook, phone, body)
        reply = _post_sms(hook, form, headers)
        click.echo(reply)  # the TwiML as Twilio gets it
        said = _twiml_message(reply)
        console.print(Panel(said or "(no reply)", title=f"SMS reply to {phone}", width=72))
        return
    hook = with_token(url or _demo(settings, "/hooks/at/sms"), settings.secrets.at_webhook_token)
    rt = context.runtime(settings)
    try:
        before = _latest(rt.reader, phone)
        _post_sms(hook, at_sms_form(settings, phone, body), {})
        console.print("reply queued")
        entry = _wait_for_reply(rt.reader, phone, before, wait)
    finally:
        rt.close()
    if entry is None:
        console.print(f"(no new outbox message for {phone} within {wait:g} s)")
        return
    console.print(
        Panel(
            entry.body, title=f"outbox #{entry.id} to {entry.to}", subtitle=entry.status, width=72
        )
    )


def at_sms_form(settings: Settings, phone: str, text: str) -> dict[str, str]:
    """An incoming SMS exactly as Africa's Talking posts it to the incoming-messages callback."""
    return {
        "from": phone,
        "to": settings.at_sender_id or "20880",
        "text": text,
        "id": secrets.token_hex(16),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "linkId": secrets.token_hex(16),
        "networkCode": NETWORK_CODE,
    }


def twilio_sms_form(
    settings: Settings, hook: str, phone: str, text: str
) -> tuple[dict[str, str], dict[str, str]]:
    """An inbound SMS exactly as Twilio's messaging webhook posts it, signed as Twilio signs it."""
    from twilio.request_validator import RequestValidator

    token = settings.secrets.twilio_auth_token
    if not token:
        raise click.ClickException(
            "ORS_TWILIO_AUTH_TOKEN is not set: the Twilio hooks refuse unsigned requests"
        )
    sid = "SM" + secrets.token_hex(16)
    form = {
        "ToCountry": "KE",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": text,
        "To": settings.secrets.twilio_from or settings.ivr_number,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": settings.secrets.twilio_account_sid or "AC" + "0" * 32,
        "From": phone,
        "ApiVersion": "2010-04-01",
    }
    public = voice_phone.rebase(hook, settings.public_base_url)
    signature = RequestValidator(token).compute_signature(public, form)
    return form, {"X-Twilio-Signature": signature}


def _demo(settings: Settings, path: str) -> str:
    """A hook of the demo running on these settings' data folder (`ors demo` wrote where)."""
    return demo_url.base_url(settings) + path


def _twiml_message(body: str) -> str:
    try:
        found = ElementTree.fromstring(body).find("Message")
    except ElementTree.ParseError:
        raise click.ClickException(f"malformed TwiML answer: {body[:60]!r}") from None
    return (found.text or "") if found is not None else ""


def _post_sms(url: str, form: dict[str, str], headers: dict[str, str]) -> str:
    try:
        response = requests.post(url, data=form, headers=headers, timeout=15)
    except requests.RequestException as exc:
        raise click.ClickException(
            f"cannot reach {url.split('?')[0]}: {type(exc).__name__}"
        ) from None
    if response.status_code != 200:
        raise click.ClickException(f"the gateway answered HTTP {response.status_code}")
    return response.text


def _latest(reader: sessionmaker[Session], phone: str) -> int:
    found = recent(reader, phone, limit=1)
    return found[0].id if found else 0


def _wait_for_reply(
    reader: sessionmaker[Session], phone: str, after: int, wait: float
) -> OutboxEntry | None:
    deadline = time.monotonic() + wait
    while True:
        found = recent(reader, phone, limit=1)
        if found and found[0].id > after:
            return found[0]
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


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
