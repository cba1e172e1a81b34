"""crm-sim parts without HTTP: form validation, phone matching, contacts files, finglish, storage."""

from __future__ import annotations

from datetime import datetime

import pytest

from smdr.crmsim.cdr import DIRECTION_SPELLINGS, EVENT_SPELLINGS, InvalidRequest, parse_cdr_form
from smdr.crmsim.contacts import DEFAULT_CONTACTS, ContactBook, load_contacts, normalize_phone
from smdr.crmsim.faults import FaultInjector, FaultSettings
from smdr.crmsim.finglish import to_finglish
from smdr.crmsim.store import CallStore
from smdr.errors import ConfigError
from smdr.model import DIRECTIONS, EVENTS

FORM = {"agent": "201", "phone": "09121234567", "call_id": "c-1", "direction": "inbound", "event": "ringing"}

DOC_EVENT_TABLE = {
    "no_answer": ["no_answer", "no-answer", "no", "missed", "no-response", "notanswered"],
    "ringing": ["ringing", "ring"],
    "busy": ["busy"],
    "transferred": ["transferred", "transfer"],
    "in-progress": ["in-progress"],
    "answered": ["answered", "completed", "complete", "hangup"],
}


def test_every_documented_event_spelling_maps_to_the_model_name():
    for canonical, spellings in DOC_EVENT_TABLE.items():
        for spelling in spellings:
            assert parse_cdr_form({**FORM, "event": spelling}).event == canonical
    assert set(EVENT_SPELLINGS.values()) == EVENTS
    assert len(EVENT_SPELLINGS) == sum(len(v) for v in DOC_EVENT_TABLE.values())


def test_direction_spellings():
    expected = {"inbound": "inbound", "incoming": "inbound", "outbound": "outbound", "outgoing": "outbound",
                "internal": "internal"}
    for spelling, canonical in expected.items():
        assert parse_cdr_form({**FORM, "direction": spelling}).direction == canonical
    assert set(DIRECTION_SPELLINGS.values()) == DIRECTIONS


@pytest.mark.parametrize("change, message", [
    ({"agent": ""}, "missing required field: agent"),
    ({"call_id": "  "}, "call_id"),
    ({"event": "RINGING"}, "unknown event"),
    ({"event": "hungup"}, "unknown event"),
    ({"direction": "in"}, "unknown direction"),
    ({"duration": "12s"}, "duration"),
    ({"duration": "-3"}, "negative"),
    ({"billduration": "x"}, "billduration"),
    ({"starttime": "yesterday"}, "ISO 8601"),
    ({"endtime": "2024-13-01T00:00:00"}, "endtime"),
])
def test_invalid_forms_say_what_is_wrong(change, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_cdr_form({**FORM, **change})


def test_missing_fields_are_all_named():
    with pytest.raises(InvalidRequest, match="phone, call_id, direction, event"):
        parse_cdr_form({"agent": "201"})


@pytest.mark.parametrize("text", ["09121234567", "+989121234567", "00989121234567", "989121234567",
                                  "9121234567", "۰۹۱۲۱۲۳۴۵۶۷", "+۹۸۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧",
                                  "0912 123-4567"])
def test_normalize_phone_variants(text):
    assert normalize_phone(text) == "09121234567"


def test_contact_book_matches_every_number_of_a_contact_and_local_tails():
    book = ContactBook(DEFAULT_CONTACTS)
    assert book.find("+989138086200").id == "2138"        # mobile
    assert book.find("03191007879").id == "2138"          # business phone
    assert book.find("36204751").id == "2138"             # dialled without the area code
    assert book.find("02100000000") is None
    assert book.find("123") is None
    assert book.find("") is None


def test_contacts_from_yaml_keep_leading_zeros(tmp_path):
    path = tmp_path / "contacts.yaml"
    path.write_text("contacts:\n  - name: سارا محمدی\n    phone: 03136204751\n    company: آزمون\n"
                    "  - {name: Test Co, mobile: 09350000000, module: Accounts, id: 77}\n", encoding="utf-8")
    book = load_contacts(path)
    first, second = book.contacts
    assert (first.name, first.phone, first.id, first.module) == (
        "سارا محمدی", "03136204751", "1001", "Contacts")
    assert (second.id, second.module) == ("77", "Accounts")
    assert book.find("+989350000000") is second


def test_contacts_from_csv(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("\ufeffname,phone,mobile,businessphone,email,company,module\n"
                    "رضا کریمی,02155555555,,,,,\n", encoding="utf-8")
    (contact,) = load_contacts(path).contacts
    assert contact.name == "رضا کریمی" and contact.mobile is None and contact.module == "Contacts"


@pytest.mark.parametrize("text, message", [
    ("- {name: A}\n", "needs a phone"),
    ("- {phone: '021'}\n", "'name' is required"),
    ("- {name: A, phone: '1', fax: '2'}\n", "unknown column"),
    ("name: A\n", "list of mappings"),
])
def test_bad_contact_files_are_reported(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_contacts(path)


def test_finglish_methods():
    name = "محمد رضا تقی پور"
    assert to_finglish(name, 0) == name
    assert to_finglish(name, 1) == "Mohammad Reza Taghi Pour"
    assert to_finglish("ناشناخته", 1) == "ناشناخته"          # not in the dictionary: left as is
    mapped = to_finglish("ناشناخته", 3)
    assert mapped.isascii() and mapped[0].isupper()
    assert to_finglish("ناشناخته", 2) == mapped
    assert to_finglish("علی ناشناخته", 4) == "Ali " + mapped
    assert to_finglish("علی ناشناخته", 5) == "Ali " + mapped


def test_store_keeps_one_record_per_call_id_and_applies_defaults():
    store = CallStore()
    t0 = datetime(2024, 3, 1, 10, 0, 0)
    first = store.record(parse_cdr_form({**FORM, "gateway": "KX-TDA"}), dict(FORM), t0)
    answered = parse_cdr_form({**FORM, "event": "hangup", "duration": "65"})
    second = store.record(answered, dict(FORM), datetime(2024, 3, 1, 10, 1, 30))
    other = store.record(parse_cdr_form({**FORM, "call_id": "c-2"}), dict(FORM), t0)
    assert first == second != other
    (call, _) = store.calls()
    assert call["events"] == ["ringing", "answered"] and call["updates"] == 2
    assert call["starttime"] == "2024-03-01T10:00:00"          # kept from the first event
    assert call["endtime"] == "2024-03-01T10:01:05"            # start + duration
    assert (call["duration"], call["billduration"], call["gateway"]) == (65, 65, "KX-TDA")
    assert store.calls(limit=1)[0]["call_id"] == "c-2"
    assert store.calls(call_id="c-1")[0]["id"] == first
    assert store.counts() == {"calls": 2, "events": 3, "popups": 0}
    store.close()


def test_store_file_survives_reopen(tmp_path):
    path = str(tmp_path / "sim.db")
    store = CallStore(path)
    record_id = store.record(parse_cdr_form(FORM), dict(FORM), datetime(2024, 1, 1))
    store.close()
    again = CallStore(path)
    answered = parse_cdr_form({**FORM, "event": "answered"})
    assert again.record(answered, dict(FORM), datetime(2024, 1, 1)) == record_id
    assert again.calls()[0]["events"] == ["ringing", "answered"]
    again.close()


def test_fault_updates_are_checked_and_partial():
    faults = FaultInjector(FaultSettings(latency_ms=5), seed=1)
    assert faults.update({"error_rate": 0.5}) is None
    assert faults.settings.latency_ms == 5 and faults.settings.error_rate == 0.5
    for bad in ({"error_rate": 2}, {"latency_ms": "x"}, {"reject_secret": 1}, {"nope": 1},
                {"auth_failure_status": 42}, {"down_for": -1}):
        with pytest.raises(ValueError):
            faults.update(bad)
    assert faults.settings.error_rate == 0.5
    assert faults.update({"reset": True, "html_errors": True}) is None
    assert faults.settings == FaultSettings(html_errors=True)
    assert faults.update({"down_for": 3}) == 3.0


def test_seeded_error_draws_repeat():
    def draws(seed):
        faults = FaultInjector(FaultSettings(error_rate=0.5), seed=seed)
        return [faults.draw_injected_error() for _ in range(50)]
    assert draws(7) == draws(7)
    assert any(draws(7)) and not all(draws(7))
