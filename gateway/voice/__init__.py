"""Voice prompts joined from recorded pieces: one audio file per prompt, served by the gateway.

Africa's Talking allows one `<Play>` (or `<Say>`) inside `<GetDigits>` and only https URLs,
and neither provider speaks Swahili, so a prompt in a language with recordings is one WAV
joined on the server from the pieces menus.saying says it with (fragments.py: the files;
wav.py: joining; links.py: the address; audio.py: both together). Anything without a
recording is said by the provider's text to speech, as before recordings existed.
"""
