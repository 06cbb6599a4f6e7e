"""X's weighted length: how much of a post's 280 "characters" a text uses.

X counts text with the rules of twitter-text, configuration v3 (``v3.json`` in the
twitter/twitter-text project; explained at https://docs.x.com/fundamentals/counting-characters):

- the text is NFC-normalised first;
- every URL counts 23 (``transformedURLLength``), however long it is;
- every emoji counts 2, however many code points make it (a family, a flag, a skin tone);
- any other code point counts 1 in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and
  U+2032-U+2037 (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic scripts, common punctuation)
  and 2 elsewhere (CJK, most symbols);
- a text is valid when it weighs 1 to 280 and holds none of U+FFFE, U+FEFF, U+FFFF.

URLs are found the way twitter-text finds them, with or without ``http(s)://`` (a bare
``example.com`` is a URL, ``notes.txt`` is not): the rules below restate its published
patterns. A domain must end in a top-level domain: the list is the ICANN section of the
Public Suffix List (the ``publicsuffixlist`` package, refreshed with each of its releases)
rather than twitter-text's frozen copy. Emoji are the sequences of Unicode's emoji list
(every qualification), as twitter-text's are; the ``emoji`` package supplies them.

Known differences, all rare: a top-level domain X's list lacks or has that the PSL does not;
an internationalised country-code domain (``example.中国``) counted as a URL without a path
(twitter-text does not link a bare ``name.cc``); emoji newer than X's list, which X counts
per code point. tests/test_x_length.py runs every case of the suite's two v3 sections.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import emoji
from publicsuffixlist import PublicSuffixList

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
EMOJI_WEIGHT = 2

# v3.json: these ranges weigh 100 and everything else 200, on a scale of 100.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
INVALID_CHARACTERS = "\ufffe\ufeff\uffff"

# --- character classes, as twitter-text defines them -------------------------------------
# Its punctuation set is ASCII punctuation without '"' and '`'; kept as is.
_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_SPACES = r"\x09-\x0d\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVALID = r"\ufffe\ufeff\uffff"
_LATIN_ACCENTS = (
    r"\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    r"\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = r"\u0400-\u04ff"

_DOMAIN_CHAR = rf"[^{_PUNCT}{_SPACES}{_INVALID}]"
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_\-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:\-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_PUNYCODE_TLD = r"xn\-\-[\-0-9a-z]+"
# A URL may follow anything but a letter, a digit, @, $ or #, so user@example.com is no URL.
_PRECEDING = rf"(?:[^A-Za-z0-9@\uff20$#\uff03{_INVALID}]|^)"

_PATH_CHAR = rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
# A path does not end in most punctuation: "see example.com/a." leaves the full stop out.
_PATH_END = rf"(?:[+\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|{_PARENS})"
_PATH = rf"(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END}|@{_PATH_CHAR}+/)"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"

# Where a top-level domain may start: right after a dot, a run of domain characters.
_AFTER_DOT = re.compile(rf"\.({_DOMAIN_CHAR}{{1,63}})")
_TLD_BOUNDARY = re.compile(r"[a-z0-9@+\-]", re.IGNORECASE)  # what may not follow a TLD
_TCO = re.compile(r"https?://t\.co/([a-z0-9]+)", re.IGNORECASE)
_MAX_TCO_SLUG = 40
_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63
_SPECIAL_SHORT_TLDS = ("co", "tv")  # name.co and name.tv are links even without a path


@dataclass(frozen=True)
class Measured:
    """A text as X counts it."""

    weighted_length: int
    invalid_characters: tuple[str, ...] = ()  # as "U+FFFE", in order of first appearance

    @property
    def valid(self) -> bool:
        """Whether X accepts the text: 1 to 280 weighted characters, none invalid."""
        return 0 < self.weighted_length <= MAX_WEIGHTED_LENGTH and not self.invalid_characters


# A brand's X accounts weigh one text each (the sync checks an item on every account it goes
# to, the plan each post): the weight is remembered for the last few thousand texts.
@functools.lru_cache(maxsize=4096)
def measure(text: str) -> Measured:
    """Weigh ``text`` as X does (see the module docstring)."""
    text = unicodedata.normalize("NFC", text)
    urls = dict(url_spans(text))
    emojis = {found["match_start"]: found["match_end"] for found in emoji.emoji_list(text)}
    weight = 0
    index = 0
    while index < len(text):
        if index in urls:
            weight += URL_WEIGHT
            index = urls[index]
        elif index in emojis:
            weight += EMOJI_WEIGHT
            index = emojis[index]
        else:
            weight += _weight(ord(text[index]))
            index += 1
    invalid = dict.fromkeys(f"U+{ord(c):04X}" for c in text if c in INVALID_CHARACTERS)
    return Measured(weight, tuple(invalid))


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where X sees URLs in ``text`` (already NFC): ``(start, end)`` offsets, in order."""
    tlds = _tlds_in(text) if "." in text else frozenset()
    if not tlds and "xn--" not in text.lower():
        return []  # no domain can end here: spare the pattern its quadratic worst case
    patterns = _patterns(tlds)
    spans: list[tuple[int, int]] = []
    for match in patterns.url.finditer(text):
        url, protocol, domain = match["url"], match["protocol"], match["domain"]
        start, end = match.span("url")
        if not _valid_host(domain, patterns) or (
            len(protocol or "https://") + len(url) > _MAX_URL_LENGTH
        ):
            continue
        if protocol:
            tco = _TCO.match(url)
            if tco:  # a t.co link ends with its slug; anything after it is text
                if len(tco[1]) > _MAX_TCO_SLUG:
                    continue
                end = start + tco.end()
            spans.append((start, end))
        elif match["before"] not in ("-", "_", ".", "/"):
            spans.extend(_bare_domains(match, patterns))
    return spans


def _weight(code_point: int) -> int:
    return 1 if any(low <= code_point <= high for low, high in _LIGHT_RANGES) else 2


def _bare_domains(match: re.Match[str], patterns: _Patterns) -> Iterator[tuple[int, int]]:
    """The URLs in a match without ``http(s)://``: its ASCII domains (``日本example.com``
    yields ``example.com``), the last one with the path and query that follow it."""
    domain, path = match["domain"], match["path"]
    start = match.start("domain")
    found = list(patterns.ascii_domain.finditer(domain))
    for position, ascii_domain in enumerate(found):
        span = (start + ascii_domain.start(), start + ascii_domain.end())
        if path and position == len(found) - 1:
            yield span[0], match.end("url")
        elif path or _is_linked_without_path(ascii_domain[0]):
            yield span


def _is_linked_without_path(domain: str) -> bool:
    # twitter-text links a bare "name.cc" (one label, a country code) only for .co and .tv.
    labels = domain.lower().split(".")
    return len(labels) != 2 or not _is_country_code(labels[1]) or labels[1] in _SPECIAL_SHORT_TLDS


def _is_country_code(tld: str) -> bool:
    # Every ASCII country-code TLD has two letters and every other ASCII TLD more.
    return len(tld) == 2 and tld.isascii()


def _valid_host(domain: str, patterns: _Patterns) -> bool:
    """IDNA's rule, as twitter-text applies it: each label 1 to 63 characters once
    punycode-encoded, and a name starting ``xn--`` must be ASCII."""
    if domain.startswith("xn--") and not patterns.ascii_domain.search(domain):
        return False
    for label in domain.split("."):
        encoded = label if label.isascii() else "xn--" + label.encode("punycode").decode()
        if not 1 <= len(encoded) <= _MAX_LABEL_LENGTH:
            return False
    return True


def _tlds_in(text: str) -> frozenset[str]:
    """The top-level domains that could end a domain in ``text``.

    twitter-text ends its domain pattern with an alternation of every TLD. A TLD only ever
    matches right after a dot, so the pattern needs only those that follow a dot here: each
    run after a dot is cut where a TLD may end and looked up in the Public Suffix List.
    """
    suffixes = _public_suffixes()
    found = set()
    for run in _AFTER_DOT.finditer(text):
        end_of_run = run.end(1)
        for cut in range(run.start(1) + 1, end_of_run + 1):
            after = text[cut : cut + 1]
            if after and _TLD_BOUNDARY.match(after):
                continue
            candidate = text[run.start(1) : cut].lower()
            if suffixes.is_public(candidate):
                found.add(candidate)
    return frozenset(found)


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # ICANN names only (not "github.io"), and nothing unknown counts as a TLD.
    return PublicSuffixList(accept_unknown=False, only_icann=True)


@dataclass(frozen=True)
class _Patterns:
    url: re.Pattern[str]
    ascii_domain: re.Pattern[str]


@functools.lru_cache(maxsize=256)
def _patterns(tlds: frozenset[str]) -> _Patterns:
    """The URL patterns for a text whose dots are followed by ``tlds`` (cached: posts
    mostly use the same few)."""
    names = sorted(tlds, key=lambda tld: (-len(tld), tld))  # the longest first, as a regex tries
    tld = "|".join([*map(re.escape, names), _PUNYCODE_TLD])
    tld = rf"(?:{tld})(?![a-z0-9@+\-])"
    domain = rf"{_SUBDOMAIN}*{_DOMAIN_NAME}{tld}"
    url = (
        rf"(?P<before>{_PRECEDING})"
        rf"(?P<url>(?P<protocol>https?://)?(?P<domain>{domain})(?::[0-9]+)?"
        rf"(?P<path>/{_PATH}*)?(?:{_QUERY})?)"
    )
    ascii_domain = rf"(?:[\-a-z0-9{_LATIN_ACCENTS}]+\.)+{tld}"
    return _Patterns(re.compile(url, re.IGNORECASE), re.compile(ascii_domain, re.IGNORECASE))
