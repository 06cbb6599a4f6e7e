"""Links in post text and the own-domain rule: a link to the brand counts as a pitch."""

from __future__ import annotations

import pytest

from planner.content.links import extract_urls, is_own_domain_link


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("New post: https://blog.example.com/launch", True),  # subdomain
        ("https://example.com", True),
        ("https://WWW.Example.COM:8443/x?y=1", True),  # case, www, port
        ("http://user:secret@example.com/", True),  # user info is not the host
        ("Pricing at example.com/pricing!", True),  # bare domain in text
        ("Visit shop.example.com.", True),
        ("https://evil-example.com/", False),  # lookalike
        ("https://example.com.evil.net/", False),
        ("https://example.com@evil.net/", False),  # the host is evil.net
        ("https://notexample.com", False),
        ("We love example content", False),  # no URL at all
        ("Write to sales@example.com", False),  # an e-mail address is not a link
        ("https://other.org/?ref=example.com", False),  # only the host counts
    ],
)
def test_own_domain_links_in_text(text: str, own: bool) -> None:
    assert is_own_domain_link(text, ["example.com"]) is own


def test_own_domains_may_be_written_as_urls_or_with_www() -> None:
    assert is_own_domain_link("https://example.com/a", ["www.example.com"])
    assert is_own_domain_link("https://example.com/a", ["https://Example.com/"])
    assert is_own_domain_link("https://xn--bcher-kva.de/", ["bücher.de"])
    assert not is_own_domain_link("https://example.com/a", [])


def test_own_domain_check_takes_urls_directly() -> None:
    assert is_own_domain_link(["https://a.org/x", "https://example.com/y"], ["example.com"])
    assert not is_own_domain_link(["https://a.org/x"], ["example.com"])


def test_extract_urls_leaves_sentence_punctuation_out() -> None:
    text = (
        "Read https://a.org/x, then (https://en.wikipedia.org/wiki/Rule_(x)) and b.io/y. "
        "Mail me@c.net or see https://d.org/z)."
    )
    assert extract_urls(text) == [
        "https://a.org/x",
        "https://en.wikipedia.org/wiki/Rule_(x)",
        "b.io/y",
        "https://d.org/z",
    ]
