"""The simulator's contact list: built-in Persian sample contacts, or a YAML/CSV file, and phone lookup.

Lookup tolerates the ways an Iranian number reaches the CRM: ``+98``/``0098``/``98`` prefixes instead of
the leading ``0``, Persian or Arabic-Indic digits, spaces and dashes, a mobile without its ``0``, and a
local number dialled without its area code (matched as the tail of a stored number).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

import yaml

from ..errors import ConfigError

CONTACT_COLUMNS: Final = ("name", "phone", "mobile", "businessphone", "email", "company", "module")
_DIGITS: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_MIN_TAIL_DIGITS: Final = 7  # a shorter number never matches a stored one by its tail


@dataclass(slots=True)
class Contact:
    id: str
    name: str
    phone: str | None = None
    mobile: str | None = None
    businessphone: str | None = None
    email: str | None = None
    company: str | None = None
    module: str = "Contacts"

    def numbers(self) -> list[str]:
        return [n for n in (self.phone, self.mobile, self.businessphone) if n]


DEFAULT_CONTACTS: Final = (
    Contact("2138", "پارس ویتایگر", "03136204751", "09138086200", "03191007879", "info@parsvt.com", None,
            "Accounts"),
    Contact("2201", "محمد رضا تقی پور", "02188776655", "09121234567", None, "taghipour@example.com",
            "پارس ویتایگر"),
    Contact("2202", "زهرا احمدی", "02144556677", "09351112233", None, "z.ahmadi@example.com", None),
    Contact("2203", "علی رضایی", None, "09197654321", "02166554433", None, "بازرگانی رضایی"),
    Contact("2204", "مریم کریمی", "05138445566", "09151239876", None, None, None, "Leads"),
)


def normalize_phone(text: str) -> str:
    """Canonical national form: ASCII digits only, international prefixes of Iran replaced by ``0``."""
    raw = text.strip().translate(_DIGITS)
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.startswith("+98") or digits.startswith("0098"):
        return "0" + digits[4 if digits.startswith("0098") else 2:]
    if digits.startswith("98") and len(digits) == 12:
        return "0" + digits[2:]
    if len(digits) == 10 and digits.startswith("9"):
        return "0" + digits  # a mobile written without its leading 0
    return digits


class ContactBook:
    """Contacts indexed by every normalized number they carry."""

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self.contacts = list(contacts)
        self._by_number: dict[str, Contact] = {}
        for contact in self.contacts:
            for number in contact.numbers():
                self._by_number.setdefault(normalize_phone(number), contact)

    def find(self, phone: str) -> Contact | None:
        wanted = normalize_phone(phone)
        if not wanted:
            return None
        exact = self._by_number.get(wanted)
        if exact is not None:
            return exact
        for number, contact in self._by_number.items():
            if min(len(number), len(wanted)) >= _MIN_TAIL_DIGITS and (
                    number.endswith(wanted) or wanted.endswith(number)):
                return contact
        return None


def load_contacts(path: str | Path) -> ContactBook:
    """A YAML (a list, or ``contacts:`` holding a list) or CSV (header row) file of contacts."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read contacts: {exc.strerror or exc}", path=str(path)) from None
    rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _yaml_rows(text, str(path))
    return ContactBook(_contact_from_row(row, index, str(path)) for index, row in enumerate(rows, 1))


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]


def _yaml_rows(text: str, path: str) -> list[dict[str, Any]]:
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # every scalar a string: 0313... is no octal number
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=path) from None
    if isinstance(data, dict) and "contacts" in data:
        data = data["contacts"]
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ConfigError("a contacts file holds a list of mappings (or 'contacts:' with one)", path=path)
    return data


def _contact_from_row(row: dict[str, Any], index: int, path: str) -> Contact:
    known = {f.name for f in fields(Contact)}
    unknown = sorted(set(row) - known)
    if unknown:
        raise ConfigError(f"contact {index}: unknown column(s) {', '.join(unknown)}; "
                          f"expected {', '.join(CONTACT_COLUMNS)}", path=path)
    values = {k: (str(v).strip() or None) if v is not None else None for k, v in row.items()}
    if not values.get("name"):
        raise ConfigError(f"contact {index}: 'name' is required", path=path)
    contact = Contact(id=values.get("id") or str(1000 + index), name=values["name"],
                      module=values.get("module") or "Contacts")
    for column in ("phone", "mobile", "businessphone", "email", "company"):
        setattr(contact, column, values.get(column))
    if not contact.numbers():
        raise ConfigError(f"contact {index} ({contact.name}): needs a phone, mobile or businessphone",
                          path=path)
    return contact
