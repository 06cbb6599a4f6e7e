"""X's weighted length (planner.adapters.x_length) against the official twitter-text suite.

The suite lives outside the project, in ``../shared/conformance/twitter-text/`` (see its
README): every case of the two sections that use the current v3 configuration must agree on
``weightedLength`` and ``valid``. The cases after it pin behaviour the suite leaves open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.adapters.x_length import MAX_WEIGHTED_LENGTH, measure, url_spans

SUITE = (
    Path(__file__).resolve().parents[3] / "shared" / "conformance" / "twitter-text" / "validate.yml"
)
SECTIONS = ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")


def conformance_cases() -> list[Any]:
    if not SUITE.is_file():
        reason = f"the twitter-text conformance suite is not at {SUITE} (shared/ is absent)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="suite-absent")]
    tests = yaml.safe_load(SUITE.read_text(encoding="utf-8"))["tests"]
    cases = []
    for section in SECTIONS:
        assert tests.get(section), f"section {section} is missing or empty in {SUITE}"
        for number, case in enumerate(tests[section], 1):
            cases.append(pytest.param(case, id=f"{section}-{number}-{case['description']}"))
    return cases


@pytest.mark.parametrize("case", conformance_cases())
def test_weighted_length_agrees_with_the_twitter_text_suite(case: dict[str, Any]) -> None:
    measured = measure(case["text"])
    expected = case["expected"]
    assert (measured.weighted_length, measured.valid) == (
        expected["weightedLength"],
        expected["valid"],
    )


def spans(text: str) -> list[str]:
    return [text[start:end] for start, end in url_spans(text)]


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("read https://example.com/a/b?c=1 now", ["https://example.com/a/b?c=1"]),
        ("example.com", ["example.com"]),  # no scheme needed
        ("www.example.co.uk/path", ["www.example.co.uk/path"]),
        ("see example.com/a.", ["example.com/a"]),  # a closing full stop is text
        (
            "(https://en.wikipedia.org/wiki/Primer_(film))",
            ["https://en.wikipedia.org/wiki/Primer_(film)"],
        ),
        ("notes.txt and node.js", []),  # not top-level domains
        ("setup.py", []),  # a bare name.cc is not a link ...
        ("setup.py/docs", ["setup.py/docs"]),  # ... unless a path follows
        ("t.co", ["t.co"]),  # ... or it is .co or .tv
        ("mail me: user@example.com", []),
        ("file_name.com", []),  # no link right after "_"
        ("http://t.co/abcdef,more", ["http://t.co/abcdef"]),  # a t.co link ends with its slug
        ("日本example.com", ["example.com"]),  # only the ASCII domain, without a scheme
        ("http://例え.jp/x", ["http://例え.jp/x"]),
        ("no dots here", []),
    ],
)
def test_urls_are_found_as_x_finds_them(text: str, urls: list[str]) -> None:
    assert spans(text) == urls


def test_a_url_weighs_23_however_long() -> None:
    short, long = "https://a.co", "https://example.com/" + "x" * 500
    assert measure(short).weighted_length == measure(long).weighted_length == 23


def test_a_domain_label_longer_than_63_characters_is_no_url() -> None:
    text = "http://" + "a" * 64 + ".com"
    assert spans(text) == []
    assert measure(text).weighted_length == len(text)


def test_text_is_counted_after_nfc_normalisation() -> None:
    assert measure("e\u0301" * 280).weighted_length == 280  # each pair composes to one "é"
    assert measure("e\u0301" * 280).valid


def test_emoji_sequences_count_two_and_cjk_characters_two() -> None:
    assert measure("👩🏽‍💻").weighted_length == 2  # woman technologist, medium skin tone
    assert measure("🇩🇪🇫🇷").weighted_length == 4
    assert measure("日本語").weighted_length == 6
    assert measure("abc").weighted_length == 3


def test_the_limit_is_280_inclusive() -> None:
    assert measure("x" * MAX_WEIGHTED_LENGTH).valid
    assert not measure("x" * (MAX_WEIGHTED_LENGTH + 1)).valid
    assert not measure("").valid


def test_invalid_characters_are_named_once_in_order() -> None:
    measured = measure("a\uffffb\ufeffc\uffff")
    assert measured.invalid_characters == ("U+FFFF", "U+FEFF")
    assert not measured.valid


def test_dots_that_end_no_domain_make_no_url() -> None:
    # Without a top-level domain after any dot the URL pattern, quadratic on such text, is
    # skipped: this long text takes milliseconds rather than seconds.
    text = "a." * 5000
    assert spans(text) == []
    assert measure(text).weighted_length == 10000
