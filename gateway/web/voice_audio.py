"""`GET /voice/audio/<link>.wav`: a voice prompt joined from recordings, for the provider.

The providers fetch it without credentials, so the link itself is the key: sealed by the
gateway (gateway.voice.links), it names only recorded pieces and cannot be made elsewhere.
An unknown or expired link answers a bare 404. The answer may say a T-code, so only the
provider may keep it, and not beyond the link's own life.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app

from gateway.voice.audio import AUDIO_PATH
from gateway.voice.wav import AudioError

log = logging.getLogger(__name__)
bp = Blueprint("voice_audio", __name__)


@bp.get(f"{AUDIO_PATH}/<link>.wav")
def audio(link: str) -> Response:
    voice = current_app.extensions["ors"].ivr.audio
    try:
        joined = voice.build(link)
    except AudioError as error:
        # A recording in another format: the caller hears silence this turn; say which file.
        log.error("voice prompt could not be joined: %s", error)
        abort(404)
    if joined is None:
        abort(404)
    response = Response(joined, mimetype="audio/wav")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
