"""Display names: cleaning, refusals (length, invisible characters, profanity) and unique keys."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vocabquiz.domain import names
from vocabquiz.domain.names import InvalidName, clean_display_name, name_key


def refusal(raw: str) -> str:
    with pytest.raises(InvalidName) as refused:
        clean_display_name(raw)
    return refused.value.reason


def test_clean_name_is_trimmed_and_internal_spaces_collapsed() -> None:
    assert clean_display_name("  Ada   Lovelace \t") == "Ada Lovelace"


def test_clean_name_turns_any_whitespace_into_one_space() -> None:
    assert clean_display_name("Ada\u00a0\n Lovelace") == "Ada Lovelace"


@pytest.mark.parametrize(
    "raw", ["Alice", "José María", "Zoë", "Анна", "李雷", "O'Brien", "Mary-Kate", "R2-D2 🤖"]
)
def test_clean_names_are_kept_as_typed(raw: str) -> None:
    assert clean_display_name(raw) == raw


def test_clean_name_is_nfc_normalized() -> None:
    assert clean_display_name("Jose\u0301") == "José"


def test_name_of_32_characters_is_kept() -> None:
    assert clean_display_name("x" * 32) == "x" * 32


def test_name_of_33_characters_is_refused_with_its_length() -> None:
    assert refusal("x" * 33) == "Name must be 1-32 characters, not 33"


def test_length_is_counted_after_trimming() -> None:
    assert clean_display_name("   " + "x" * 32 + "   ") == "x" * 32


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty_name_is_refused(raw: str) -> None:
    assert refusal(raw) == "Name must be 1-32 characters, not 0"


def test_invalid_name_is_a_value_error_whose_message_is_the_reason() -> None:
    error = InvalidName("Name must be 1-32 characters, not 0")
    assert isinstance(error, ValueError)
    assert str(error) == error.reason


@pytest.mark.parametrize(
    ("raw", "code_point"),
    [
        ("Al\x00ice", "U+0000"),
        ("Al\x07ice", "U+0007"),
        ("Al\x7fice", "U+007F"),
        ("Al\u200bice", "U+200B"),  # zero-width space
        ("Al\u200dice", "U+200D"),  # zero-width joiner
        ("Alice\u202e", "U+202E"),  # right-to-left override
        ("\ufeffAlice", "U+FEFF"),  # byte order mark
        ("Al\ue000ice", "U+E000"),  # private use
        ("Al\ud800ice", "U+D800"),  # lone surrogate
        ("Al\U000e0001ice", "U+E0001"),  # language tag
    ],
)
def test_control_and_invisible_characters_are_refused_naming_them(raw: str, code_point: str) -> None:
    assert code_point in refusal(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "shit",
        "SHIT",
        "sh1t",
        "$h1t",
        "sh!t",
        "shiiiit",
        "s h i t",
        "s.h.i.t",
        "f_u_c_k",
        "fück",
        "\uff46\uff55\uff43\uff4b",  # fullwidth
        "\u0455\u04bb\u0456t",  # Cyrillic look-alikes of s, h, i
        "Big Shit",
        "ShitHead",
        "FuckFace",
        "IAmAShithead",
        "b1tch",
        "a$$hole",
        "wanker",
        "Dick",
        "Dick Smith",
    ],
)
def test_profane_names_and_their_variants_are_refused(raw: str) -> None:
    assert refusal(raw) == "Name is not allowed, please choose another"


@pytest.mark.parametrize(
    "raw",
    [
        "Scunthorpe",
        "Cassandra",
        "assistant",
        "Dickens",
        "Emily Dickinson",
        "Hancock",
        "Sussex",
        "Matsushita",
        "Analyst",
        "Wang Wei",
        "Fanny",
        "Yury",
        "Nimrod",
        "Aryan",
        "Seaman",
        "xX Gamer Xx",
        "J R R Tolkien",
        "Hello",
    ],
)
def test_words_and_names_containing_profanity_are_kept(raw: str) -> None:
    assert clean_display_name(raw) == raw


@pytest.mark.parametrize(
    "raw", ["Alice", "alice", " ALICE ", "Alicé", "ALÍCE", "\u0410lice", "\uff21\uff4c\uff49\uff43\uff45"]
)
def test_names_that_look_alike_share_a_key(raw: str) -> None:
    assert name_key(raw) == name_key("Alice") == "alice"


def test_name_key_collapses_whitespace_and_drops_invisible_characters() -> None:
    assert name_key("Ada \t Lovelace") == name_key("Ada Lo\u200bvelace ") == "ada lovelace"


def test_different_names_have_different_keys() -> None:
    assert len({name_key(raw) for raw in ["Alice", "Alicia", "Ali", "Al ice", "Ann", "Anne"]}) == 6


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("a/b", "a%2Fb"),
        ("100%", "100%25"),
        (".", "%2E"),
        ("..", "%2E."),
        ("__x__", "%5F_x__"),
        ("_bob", "%5Fbob"),
        ("", "%00"),
        ("\u200b", "%00"),
    ],
)
def test_name_key_escapes_what_firestore_refuses(raw: str, key: str) -> None:
    assert name_key(raw) == key


def test_name_key_too_long_for_firestore_is_hashed() -> None:
    key = name_key("\ufdfa" * 100)  # one character that NFKC expands to 18
    assert re.fullmatch(r"%sha256-[0-9a-f]{64}", key)


def assert_safe_document_id(key: str) -> None:
    assert key
    assert "/" not in key
    assert key not in (".", "..")
    assert not re.fullmatch(r"__.*__", key, re.DOTALL)
    assert len(key.encode("utf-8")) <= names.MAX_KEY_BYTES


@given(st.text())
def test_name_key_is_a_safe_document_id_for_any_text(raw: str) -> None:
    assert_safe_document_id(name_key(raw))


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_name_key_is_a_safe_document_id_for_long_text(raw: str) -> None:
    assert_safe_document_id(name_key(raw))


@given(st.text())
def test_clean_name_is_clean_again_and_keeps_its_key(raw: str) -> None:
    try:
        name = clean_display_name(raw)
    except InvalidName:
        return
    assert clean_display_name(name) == name
    assert 1 <= len(name) <= names.MAX_NAME_LENGTH
    assert name_key(name) == name_key(raw)
