"""SearchPBX ``finglish``: Persian names in Latin letters for IP phones without Unicode.

0 off; 1 a small built-in name dictionary; 2 (Google Translate in the CRM; no internet here) and 3 a
character mapping; 4 and 5 the dictionary first, the character mapping for words it lacks.
"""

from __future__ import annotations

from typing import Final

FINGLISH_METHODS: Final = range(6)

NAME_DICTIONARY: Final[dict[str, str]] = {
    "محمد": "Mohammad", "رضا": "Reza", "علی": "Ali", "حسین": "Hossein", "حسن": "Hassan", "مهدی": "Mahdi",
    "امیر": "Amir", "احمد": "Ahmad", "زهرا": "Zahra", "فاطمه": "Fatemeh", "مریم": "Maryam",
    "سارا": "Sara", "نرگس": "Narges", "تقی": "Taghi", "پور": "Pour", "تقی‌پور": "Taghipour",
    "احمدی": "Ahmadi", "رضایی": "Rezaei", "کریمی": "Karimi", "حسینی": "Hosseini", "محمدی": "Mohammadi",
    "پارس": "Pars", "ویتایگر": "Vtiger", "بازرگانی": "Bazargani", "شرکت": "Sherkat",
}

_CHARACTERS: Final[dict[str, str]] = {
    "ا": "a", "آ": "a", "أ": "a", "إ": "e", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch",
    "ح": "h", "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh",
    "ص": "s", "ض": "z", "ط": "t", "ظ": "z", "ع": "a", "غ": "gh", "ف": "f", "ق": "gh", "ک": "k",
    "ك": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n", "و": "o", "ه": "h", "ة": "h", "ی": "i", "ي": "i",
    "ئ": "e", "ء": "", "ؤ": "o", "\u200c": "",
}


def to_finglish(name: str, method: int) -> str:
    if method == 0:
        return name
    words = name.split()
    if method == 1:
        return " ".join(NAME_DICTIONARY.get(word, word) for word in words)
    if method in (2, 3):
        return " ".join(_by_character(word) for word in words)
    return " ".join(NAME_DICTIONARY.get(word) or _by_character(word) for word in words)


def _by_character(word: str) -> str:
    out = []
    for position, char in enumerate(word):
        if char == "و" and position == 0:
            out.append("v")  # و opens a word as a consonant, elsewhere it is mostly a vowel
        elif char == "ی" and position == 0:
            out.append("y")
        else:
            out.append(_CHARACTERS.get(char, char))
    text = "".join(out)
    return text[:1].upper() + text[1:]
