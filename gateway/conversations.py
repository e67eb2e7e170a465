"""The conversation stacks, per process: USSD (engine, renderer, session store) and IVR (engine, speech renderer, calls, session store, recorded prompts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from redis import Redis

from gateway.booking.domain import events
from gateway.booking.operations.challenges import challenge_key
from gateway.booking.service import BookingService
from gateway.menus_port import BookingMenusPort
from gateway.settings import Settings
from gateway.voice.audio import VoiceAudio
from gateway.voice.fragments import FragmentStore
from gateway.voice.links import AudioLinks
from menus import (
    Engine,
    EngineConfig,
    MemorySessionStore,
    RedisSessionStore,
    Session,
    SessionStore,
    UssdRenderer,
    load_catalogues,
)
from menus.calls import Calls, Turn
from menus.catalogue import Catalogue
from menus.ivr import IvrRenderer
from menus.voice import VoiceCatalogue, load_voice_catalogues


@cache
def screen_texts() -> Mapping[str, Catalogue]:
    """Return the menus' message catalogues, read once per process and shared read-only.

    They ship with the code, so a process never sees them change; every runtime (and a test
    builds hundreds) would otherwise parse and check the YAML again.
    """
    return MappingProxyType(load_catalogues())


@cache
def voice_texts() -> Mapping[str, VoiceCatalogue]:
    """Return the spoken catalogues, read once per process like `screen_texts`."""
    return MappingProxyType(load_voice_catalogues())


@dataclass
class HopNotes:
    """What a hop learnt before it failed or ran out of time: the request thread reads it to
    apologise in the caller's language without asking the session store again."""

    language: str | None = None


@dataclass
class UssdStack:
    """Sessions keep the last answer too (Session.answered): a hop is one read and one write."""

    engine: Engine
    renderer: UssdRenderer
    sessions: SessionStore


def build_ussd(settings: Settings, booking: BookingService, redis: Redis | None) -> UssdStack:
    renderer = UssdRenderer()
    config = EngineConfig(
        shortcode=settings.ussd_service_code,
        default_language=settings.default_language,
        channel="ussd",
    )
    engine = Engine(BookingMenusPort(booking, "ussd"), screen_texts(), config, keypad=renderer)
    ttl = settings.ussd_session_ttl
    if redis is not None:
        return UssdStack(engine, renderer, RedisSessionStore(redis, ttl_seconds=ttl))
    return UssdStack(engine, renderer, MemorySessionStore(ttl_seconds=ttl))


@dataclass
class IvrStack:
    """One voice call at a time, whatever the provider: sessions keyed by the call's id."""

    engine: Engine
    renderer: IvrRenderer
    calls: Calls
    sessions: SessionStore
    audio: VoiceAudio
    booking: BookingService

    def answer(
        self,
        call_id: str,
        phone: str,
        heard: str | None,
        *,
        hinted: bool = False,
        notes: HopNotes | None = None,
    ) -> Turn:
        """Take one request of the call (heard None: no key) and return what to do next.

        `phone` is the caller's E.164 number: the hook normalised it, and it is what the
        session, the booking core and every event of the call see from then on."""
        if not call_id or not phone:
            raise ValueError("a call needs its id and the caller's number")
        session = self.sessions.get(call_id)
        if session is not None and session.phone != phone:
            # A call's session belongs to the number that opened it (and holds its proof):
            # the same call id from another number starts afresh.
            session = None
        if session is None:
            session = Session.new(call_id, phone)
        if notes is not None:
            notes.language = session.language
        now = self.booking.clock.now()
        turn = self.calls.hop(session, heard, hinted=hinted, now=now)
        if notes is not None:
            notes.language = turn.language
        if turn.gave_up:
            # The messaging layer turns this into the "call again or dial" SMS.
            gave_up = events.ivr_gave_up(call_id, phone=session.phone, language=turn.language)
            self.booking.notice(gave_up)
        if turn.ended:
            self.sessions.delete(call_id)
        else:
            self.sessions.put(session)
        return turn

    def hang_up(self, call_id: str) -> None:
        """Forget a finished call; a held place stays until it expires (the caller may call back)."""
        if call_id:
            self.sessions.delete(call_id)

    def apology(self, language: str | None) -> Turn:
        """Return the spoken apology that ends a call, in its language if the turn learnt it."""
        return self.calls.failure(language)


def build_ivr(settings: Settings, booking: BookingService, redis: Redis | None) -> IvrStack:
    screens = screen_texts()
    renderer = IvrRenderer(voice_texts(), screens)
    config = EngineConfig(
        shortcode=settings.ussd_service_code,
        default_language=settings.default_language,
        channel="ivr",
        proof_tries=settings.voice_proof.max_tries,
        proof_wait_seconds=settings.voice_proof.wait_seconds,
    )
    engine = Engine(BookingMenusPort(booking, "ivr"), screens, config, keypad=renderer)
    ttl = settings.ussd_session_ttl
    sessions: SessionStore = (
        RedisSessionStore(redis, ttl_seconds=ttl, prefix="ors:ivr:session:")
        if redis is not None
        else MemorySessionStore(ttl_seconds=ttl)
    )
    audio = voice_audio(settings, booking)
    return IvrStack(engine, renderer, Calls(engine, renderer), sessions, audio, booking)


def voice_audio(settings: Settings, booking: BookingService) -> VoiceAudio:
    """The recordings a call's prompts are joined from. Their addresses are sealed with a key
    every web process derives alike: from ORS_SECRET_KEY, else from the voucher signing key
    (as the SMS codes' key is), so a node that did not answer the turn can build the file."""
    shared = challenge_key(settings.secrets.secret_key, booking.signing_key)
    links = AudioLinks(shared)
    store = FragmentStore(settings.ivr_recordings)
    return VoiceAudio(store, links, settings.public_base_url, booking.clock.now)
