"""A phone call over the engine: one `Turn` for each request of the voice provider.

A turn says what to speak, how to listen for keys, and what to say when the caller presses
nothing. Silence and keys that mean nothing on the screen both re-prompt with a short hint;
three in a row end the call politely (the gateway then writes `ivr.gave_up`, and the
messaging layer tells the caller by SMS how to try again). A screen that lets the caller
wait (`Reply.waits`: the SMS with a one-time code is on its way) re-prompts on silence without
counting it, until that many seconds of the call's clock have passed since it was reached; then
the call ends politely. A closing screen (booked, cancelled, help) offers 1 to hear it again,
then says goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from menus.engine import Engine
from menus.ivr import FINISH_KEY, IvrRenderer, Sentence
from menus.reply import Reply
from menus.session import Session

MAX_MISSES = 3
AGAIN_KEY = "1"
# Seconds of silence after the prompt before the provider gives up listening.
CHOICE_TIMEOUT, DIGITS_TIMEOUT, AGAIN_TIMEOUT = 8, 15, 6


@dataclass(frozen=True)
class Listen:
    num_digits: int | None  # None: until the finish key
    finish_on_key: str
    timeout: int


@dataclass(frozen=True)
class Turn:
    language: str
    hint: tuple[Sentence, ...] = ()  # said first: why the screen is said again
    prompt: tuple[Sentence, ...] = ()  # said while listening (a key press interrupts it)
    listen: Listen | None = None  # None: say everything, then hang up
    fallback: tuple[Sentence, ...] = ()  # said when the caller presses nothing
    retry: bool = False  # after the fallback, ask again (else the call ends)
    ended: bool = False  # the call is over: its session can go
    gave_up: bool = False  # ended after MAX_MISSES: the caller should hear from us by SMS

    def sentences(self) -> tuple[Sentence, ...]:
        """Return everything this turn may say, in order."""
        return self.hint + self.prompt + self.fallback


class Calls:
    """Answer each request of a call; one instance serves every call of a process."""

    def __init__(self, engine: Engine, renderer: IvrRenderer, max_misses: int = MAX_MISSES):
        self.engine, self.renderer, self.max_misses = engine, renderer, max_misses

    def hop(
        self,
        session: Session,
        heard: str | None,
        *,
        hinted: bool = False,
        now: datetime | None = None,
    ) -> Turn:
        """Apply what the caller pressed (None or "": nothing) and return the next turn.

        `hinted`: the provider already said the no-input hint (Africa's Talking speaks the
        fallback itself before coming back), so the re-prompt leaves it out. `now`: the
        call's clock, which bounds how long a waiting screen waits.
        """
        heard = heard or None
        at = (now or datetime.now(UTC)).timestamp()
        if session.shown is None:
            return self._screen(session, self.engine.step(session, None))
        if session.shown.end:
            return self._after_end(session, heard)
        reply = self.engine.step(session, heard)
        if heard is not None and not reply.error:
            session.misses = 0
            session.waiting_since = at if reply.waits else None
            return self._screen(session, reply)
        if heard is None and reply.waits and session.waiting_since is not None:
            return self._wait(session, reply, at - session.waiting_since, hinted)
        session.misses += 1
        if session.misses >= self.max_misses:
            return self._closing(session.language, "end.gave_up", gave_up=True)
        key = "hint.no_input" if heard is None else "hint.invalid"
        hint = () if hinted and heard is None else (self._say(session.language, key),)
        return self._screen(session, replace(reply, error=False), hint)

    def failure(self, language: str | None) -> Turn:
        """Return the spoken apology that ends a call when anything fails."""
        reply = self.engine.failure_reply(language)
        lang = language or self.engine.config.default_language
        apology = (*self.renderer.render(reply, lang), self._say(lang, "end.goodbye"))
        return Turn(lang, prompt=apology, ended=True)

    def _screen(self, session: Session, reply: Reply, hint: tuple[Sentence, ...] = ()) -> Turn:
        lang = session.language
        said = self.renderer.render(reply, lang)
        if reply.end:
            return Turn(
                lang,
                hint,
                (*said, self._say(lang, "end.again")),
                Listen(1, FINISH_KEY, AGAIN_TIMEOUT),
                fallback=(self._say(lang, "end.goodbye"),),
            )
        if reply.input_kind == "digits":
            listen = Listen(None, FINISH_KEY, DIGITS_TIMEOUT)
        else:
            listen = Listen(1, FINISH_KEY, CHOICE_TIMEOUT)
        no_input = (self._say(lang, "hint.code_wait" if reply.waits else "hint.no_input"),)
        return Turn(lang, hint, said, listen, fallback=no_input, retry=True)

    def _wait(self, session: Session, reply: Reply, waited: float, hinted: bool) -> Turn:
        """Silence on a waiting screen: ask again while the wait lasts, then end politely."""
        if waited >= reply.waits:
            session.waiting_since = None
            return self._closing(session.language, "end.no_code")
        hint = () if hinted else (self._say(session.language, "hint.code_wait"),)
        return self._screen(session, reply, hint)

    def _after_end(self, session: Session, heard: str | None) -> Turn:
        assert session.shown is not None
        if heard is not None and heard.strip().removesuffix(FINISH_KEY) == AGAIN_KEY:
            return self._screen(session, session.shown)
        return self._closing(session.language, "end.goodbye")

    def _closing(self, language: str, key: str, gave_up: bool = False) -> Turn:
        return Turn(language, prompt=(self._say(language, key),), ended=True, gave_up=gave_up)

    def _say(self, language: str, key: str) -> Sentence:
        return self.renderer.say(language, key)
