"""Language: chosen once, remembered by the core, used from the next dial on."""

from __future__ import annotations

from menus.catalogue import load_catalogues
from menus.context import EngineConfig
from menus.engine import Engine
from tests.menus.conftest import CALLER, DIAL, Phone
from tests.menus.fake_port import FakePort


def test_language_choice_persists_across_sessions(phone: Phone, port: FakePort) -> None:
    phone.run(
        [
            (DIAL, ["3 Language"], False),
            ("3", ["Choose language", "1 English", "2 Kiswahili"], False),
            ("2", ["Lugha sasa ni Kiswahili.", "Miadi ya hospitali", "1 Weka miadi"], False),
        ]
    )
    assert port.languages[CALLER] == "sw"

    phone.run(
        [
            (DIAL, ["Miadi ya hospitali", "2 Miadi yangu", "4 Msaada"], False),
            ("1", ["Chagua hospitali", "0 Rudi", "00 Mwanzo"], False),
            ("1", ["Chagua idara"], False),
            ("1", ["Chagua siku", "1 Jumanne 24 Nov", "2 Jumatano 25 Nov"], False),
            ("1", ["Jumanne 24 Nov: chagua saa", "1 09:30 (nafasi 2)"], False),
            ("1", ["Jumanne 24 Nov 09:30, ni yako hadi 08:05", "1 Kubali", "0 Rudi"], False),
            ("1", ["Imewekwa!", "T-code: 482 913 5575", "Utapata SMS."], True),
        ]
    )


def test_back_to_english(phone: Phone, port: FakePort) -> None:
    port.languages[CALLER] = "sw"
    phone.run(
        [
            (DIAL, ["Miadi ya hospitali"], False),
            ("3", ["Chagua lugha", "1 English", "2 Kiswahili"], False),
            ("1", ["Language set to English.", "1 Book"], False),
        ]
    )
    assert port.languages[CALLER] == "en"


def test_configured_default_language_for_unknown_callers(port: FakePort) -> None:
    engine = Engine(port, load_catalogues(), EngineConfig("*384*123#", default_language="sw"))
    Phone(engine).run([(DIAL, ["Miadi ya hospitali"], False)])


def test_stored_language_without_catalogue_falls_back(phone: Phone, port: FakePort) -> None:
    port.languages[CALLER] = "fr"
    phone.run([(DIAL, ["Hospital appointments"], False)])


def test_help_names_the_shortcode_in_each_language(phone: Phone, port: FakePort) -> None:
    phone.run([(DIAL, [], False), ("4", ["Dial *384*123#", "T-code"], True)])
    port.languages[CALLER] = "sw"
    phone.run([(DIAL, [], False), ("4", ["Piga *384*123#", "T-code"], True)])
