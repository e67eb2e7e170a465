"""A Swahili voice call said entirely from recordings, on both providers.

The pieces are rendered by the real espeak-ng from the real piece list (menus.prompts) and the
test catalogue's names; every answer must then hold no `<Say>`, one `<Play>` per
`GetDigits`/`Gather`, and each played address must answer a WAV of under 40 seconds whose
pieces are the words of the screen. A booking walk ends with one booking and one voucher SMS.
"""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
import yaml
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings
from gateway.voice.audio import AUDIO_PATH
from gateway.voice.fragments import INDEX
from gateway.voice.names import spoken_names
from gateway.voice.render import render_pieces
from menus.prompts import fragment_catalogue
from tests.channels.test_at_voice import returning
from tests.channels.voice_calls import CALLER, AtCall, TwilioCall, VoiceCall
from tests.conftest import service_missing
from tests.messaging.sms_phone import deliver, sent_to

PUBLIC = "https://ors.example.org"
AT_TOKEN, TWILIO_TOKEN = "at-rec", "tw-rec"
MAX_SECONDS = 40


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per test worker: pieces rendered once are kept (rendering adds what is new)."""
    if shutil.which("espeak-ng") is None:
        service_missing("espeak-ng renders the pieces of speech")
    return tmp_path_factory.mktemp("recordings")


@pytest.fixture
def rt(catalog: Runtime, settings: Settings, recordings: Path) -> Runtime:
    secured = settings.with_overrides(
        public_base_url=PUBLIC,
        ivr_recordings=recordings,
        secrets=Secrets(at_webhook_token=AT_TOKEN, twilio_auth_token=TWILIO_TOKEN),
    )
    rt = build_runtime(secured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)
    names = spoken_names(rt.booking, "sw")
    pieces = fragment_catalogue("sw", rt.ivr.renderer, names, secured.ussd_service_code)
    render_pieces(shutil.which("espeak-ng") or "", recordings / "sw", "sw", "sw", pieces)
    returning(rt)
    rt.booking.set_language(CALLER, "sw")
    return rt


class Listener:
    """Fetches what a call plays, checks it, and tells the words it is made of."""

    def __init__(self, rt: Runtime, client: FlaskClient, folder: Path) -> None:
        self.rt, self.client = rt, client
        self.links = rt.ivr.audio.links
        self.words = yaml.safe_load((folder / INDEX).read_text(encoding="utf-8"))["pieces"]

    def hear(self, url: str, *, listening: bool) -> str:
        path = urlsplit(url).path
        assert url.startswith(PUBLIC + AUDIO_PATH + "/") and path.endswith(".wav"), url
        response = self.client.get(path)
        assert response.status_code == 200 and response.mimetype == "audio/wav"
        assert response.headers["Cache-Control"] == "private, max-age=3600"  # may say a T-code
        with wave.open(io.BytesIO(response.get_data())) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        if listening:
            assert 0 < seconds < MAX_SECONDS, f"{seconds:.1f} s of prompt: {self.transcript(path)}"
        return self.transcript(path)

    def transcript(self, path: str) -> str:
        recipe = self.links.open(path.rsplit("/", 1)[1].removesuffix(".wav"))
        assert recipe is not None and recipe.language == "sw"
        return " ".join(self.words[p] for sentence in recipe.sentences for p in sentence)


# Each provider's verb that listens for keys, and where its <Play> keeps the address.
LISTENS = {"at": "GetDigits", "twilio": "Gather"}


def played(element: ET.Element) -> str:
    return element.get("url") or element.text or ""  # AT: url="…"; Twilio: <Play>…</Play>


def check(provider: str, root: ET.Element, listener: Listener) -> str:
    """No <Say> anywhere, one <Play> in each listening verb; return the words heard."""
    assert root.find(".//Say") is None, ET.tostring(root, encoding="unicode")
    heard = []
    for element in root:
        if element.tag == LISTENS[provider]:
            assert [child.tag for child in element] == ["Play"], f"one Play in {element.tag}"
            heard.append(listener.hear(played(element[0]), listening=True))
        elif element.tag == "Play":
            heard.append(listener.hear(played(element), listening=False))
    return " ".join(heard)


def book_by_recordings(call: VoiceCall, rt: Runtime, recordings: Path, provider: str) -> str:
    listener = Listener(rt, call.client, recordings / "sw")
    call.dial()
    heard = [check(provider, call.root, listener)]
    assert "Kuweka miadi, bonyeza moja" in heard[0]
    # The first choice on every screen: book, then down to the booked screen.
    while "T-code yako ni" not in heard[-1]:
        assert len(heard) < 12, "\n".join(heard)
        call.press("1")
        heard.append(check(provider, call.root, listener))
    return "\n".join(heard)


@pytest.mark.parametrize("provider", ["at", "twilio"])
def test_a_swahili_booking_is_said_from_recordings_only(
    rt: Runtime, recordings: Path, provider: str
) -> None:
    client = create_app(runtime=rt).test_client()
    call: VoiceCall = (
        AtCall(client, token=AT_TOKEN)
        if provider == "at"
        else TwilioCall(client, token=TWILIO_TOKEN, base_url=PUBLIC)
    )

    transcript = book_by_recordings(call, rt, recordings, provider)

    # Days and times in Swahili words, the hold never read as a clock time.
    assert "tarehe" in transcript and "saa" in transcript
    assert "Tunakushikia nafasi hii kwa dakika chache" in transcript
    speech = rt.ivr.renderer.sayer("sw").speech
    assert speech is not None
    # The new booking's T-code, digit by digit in Swahili (the other one is returning()'s).
    codes = [" ".join(map(speech.digit, b.tcode or "")) for b in rt.booking.upcoming(CALLER)]
    assert len(codes) == 2 and sum(code in transcript for code in codes) == 1
    deliver(rt)
    assert [m.template for m in sent_to(rt, CALLER)].count("voucher") == 2  # returning() + this


def test_an_address_not_made_here_is_refused(rt: Runtime) -> None:
    client = create_app(runtime=rt).test_client()
    assert client.get(f"{AUDIO_PATH}/not-a-link.wav").status_code == 404
    assert client.get(f"{AUDIO_PATH}/{'A' * 60}.wav").status_code == 404


def test_a_missing_piece_falls_back_to_speech(rt: Runtime, recordings: Path) -> None:
    folder = recordings / "sw"
    call = AtCall(create_app(runtime=rt).test_client(), token=AT_TOKEN)
    moved = folder / "moved-away"
    moved.mkdir(exist_ok=True)
    listener = Listener(rt, call.client, folder)
    call.dial()
    played = call.root.find("GetDigits/Play")
    assert played is not None
    recipe = rt.ivr.audio.links.open(urlsplit(played.get("url") or "").path.rsplit("/", 1)[1][:-4])
    assert recipe is not None
    first = recipe.sentences[0][0]
    (folder / f"{first}.wav").rename(moved / f"{first}.wav")
    try:
        call.dial()
        assert call.root.find(".//Play") is None or call.root.find("GetDigits/Say") is not None
        assert "Miadi ya hospitali" in call.heard
        del listener
    finally:
        (moved / f"{first}.wav").rename(folder / f"{first}.wav")
