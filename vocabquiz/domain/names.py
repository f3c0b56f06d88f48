"""Display names: what a player may be called, and the key that keeps names unique in a session.

Profanity is checked with better-profanity's word list (whole words, leetspeak such as "sh1t")
after our own folding, which also catches accents, look-alike letters, "f.u.c.k", "shiiit"
and "BigWord" run together. Whole-word matching keeps "Scunthorpe", "Cassandra", "assistant"
and "Dickens" allowed; "Dick" alone is refused, as the insult is the likelier reading on a
shared screen.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from better_profanity import Profanity

from vocabquiz.domain.judging import fold

MAX_NAME_LENGTH = 32
MAX_KEY_BYTES = 1_500

# better-profanity lists these, but they are common given names or surnames (Wang, Dong,
# Fanny, Yury, Guido, Nimrod, Aryan, Seaman...) or harmless words ("xX Gamer Xx"): refusing
# them would be the Scunthorpe problem at the scale of whole words.
_NOT_PROFANE = (
    "arian", "aryan", "dong", "fanny", "gay", "god", "guido", "hebe", "hell", "massa", "maxi",
    "nimrod", "organ", "paddy", "revue", "seaman", "titi", "uzi", "virgin", "wang", "willy",
    "woody", "xx", "yury",
)  # fmt: skip
_PROFANITY = Profanity()
_PROFANITY.load_censor_words(whitelist_words=list(_NOT_PROFANE))

# Cyrillic and Greek letters that look like Latin ones in both cases, after case folding.
_LOOKALIKES = str.maketrans(
    "авекмнорстухѕіјһԁӏԛԝүαβεικορτχ",
    "abekmhopctyxsijhdlqwyabeikoptx",
)
# Leetspeak that better-profanity does not undo itself (it already reads 0 1 3 4 5 7 @ $).
_LEET = str.maketrans("!|€89", "ilebg")
_CAMEL_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9a-z@$*]+")
_REPEATS = re.compile(r"(.)\1{2,}")


class InvalidName(ValueError):
    """A display name that is refused; `reason` is a short message to show the player."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_display_name(raw: str) -> str:
    """The name as the player typed it, trimmed and with single spaces; refused if unfit.

    Refused: no or over 32 characters (code points, after trimming), a control, format
    (zero-width, bidi), surrogate, private-use or unassigned character, or profanity.
    """
    # Any whitespace (tabs, newlines, no-break spaces) becomes one space; control and
    # invisible characters that are not whitespace are refused below.
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidName(f"Name must be 1-{MAX_NAME_LENGTH} characters, not {len(name)}")
    hidden = next((char for char in name if _is_hidden(char)), None)
    if hidden is not None:
        raise InvalidName(f"Name must not contain invisible characters (U+{ord(hidden):04X})")
    if _is_profane(name):
        raise InvalidName("Name is not allowed, please choose another")
    return name


def name_key(name: str) -> str:
    """The key two names share when players would take them for the same name.

    It is the name case-folded, accent-stripped, with Cyrillic/Greek look-alikes read as
    Latin, invisible characters dropped and whitespace collapsed, so "Alice", " ALICE ",
    "Alicé" and "Alice" spelt with a Cyrillic A collide.

    It is a safe Firestore document id: "%" and "/" are percent-encoded, and so is a leading
    "." or "_" (ruling out ".", ".." and "__x__"); an empty key is "%00", and a key over
    1,500 UTF-8 bytes is "%sha256-" and its hex digest. No other key starts with "%0" or "%s".
    """
    visible = "".join(char for char in fold(name) if not _is_hidden(char))
    key = " ".join(visible.translate(_LOOKALIKES).split())
    if not key:
        return "%00"
    escaped = key.replace("%", "%25").replace("/", "%2F")
    if escaped[0] in "._":
        escaped = f"%{ord(escaped[0]):02X}{escaped[1:]}"
    if len(escaped.encode()) > MAX_KEY_BYTES:
        return "%sha256-" + hashlib.sha256(key.encode()).hexdigest()
    return escaped


def _is_hidden(char: str) -> bool:
    # Whitespace of any kind (a tab is Cc too) is a space in a name and in its key, not hidden.
    return not char.isspace() and unicodedata.category(char).startswith("C")


def _is_profane(name: str) -> bool:
    spellings = {_profanity_form(name), _profanity_form(_CAMEL_HUMP.sub(" ", name))}
    spellings |= {_join_spelled_out(spelling) for spelling in spellings}
    for spelling in list(spellings):
        spellings.add(_REPEATS.sub(r"\1", spelling))
        spellings.add(_REPEATS.sub(r"\1\1", spelling))
    return any(bool(_PROFANITY.contains_profanity(spelling)) for spelling in spellings)


def _profanity_form(name: str) -> str:
    return fold(name).translate(_LOOKALIKES).translate(_LEET)


def _join_spelled_out(text: str) -> str:
    """Letters spelled out one at a time ("f u c k", "f.u.c.k") joined into one word."""
    words: list[str] = []
    letters = ""
    for token in _SEPARATORS.split(text):
        if len(token) == 1:
            letters += token
            continue
        words += [letters, token]
        letters = ""
    return " ".join(word for word in [*words, letters] if word)
