"""The etiquette lint: what the ratio rule cannot see in a post (pure).

A give post that asks for something back ("please RT", "follow me", "#FF") is a pitch in
disguise; a share that names nobody takes credit for someone else's work; a post that is only
a link gives the audience no reason to click. :func:`lint_item` finds these in an item's
text, title and network variants and says which phrase or rule it hit.

``ask_patterns`` are regular expressions matched ignoring case; the defaults
(:data:`planner.config.schema.DEFAULT_ASK_PATTERNS`) cover English, German, French, Spanish,
Portuguese, Italian and Dutch phrasings. All of them are compiled into one alternation, so
an item costs one scan per text whatever the number of patterns.

Pure: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from planner.content.links import extract_urls

ASKS = "asks"
NO_CREDIT = "no credit"
LINK_ONLY = "link only"
SHARE_KIND = "share"
_QUOTE = 40  # characters of a matched phrase shown


@dataclass(frozen=True)
class Finding:
    rule: str  # ASKS, NO_CREDIT or LINK_ONLY
    message: str


@dataclass(frozen=True)
class EtiquetteRules:
    """The compiled lint settings (``[lint]``)."""

    asks: re.Pattern[str] | None
    share_without_credit: bool = True
    link_only: bool = True

    @classmethod
    def build(
        cls, patterns: Sequence[str], *, share_without_credit: bool = True, link_only: bool = True
    ) -> EtiquetteRules:
        asks = None
        if patterns:
            joined = "|".join(f"(?:{pattern})" for pattern in patterns)
            asks = re.compile(joined, re.IGNORECASE)
        return cls(asks, share_without_credit, link_only)


def lint_item(
    rules: EtiquetteRules,
    *,
    kind: str,
    text: str | None,
    title: str | None,
    credit: str | None,
    variants: Mapping[str, Mapping[str, object]] | None = None,
) -> list[Finding]:
    """What ``rules`` find in one item, each rule once."""
    findings: list[Finding] = []
    texts = [text or "", title or ""]
    texts += [str(variant.get("text", "")) for variant in (variants or {}).values()]
    if rules.asks is not None:
        for value in texts:
            match = rules.asks.search(value)
            if match:
                phrase = match.group().strip()[:_QUOTE]
                findings.append(
                    Finding(
                        ASKS,
                        f'asks the audience for something back ("{phrase}"): give without '
                        "asking, reword it",
                    )
                )
                break
    if rules.share_without_credit and kind == SHARE_KIND and not (credit or "").strip():
        findings.append(Finding(NO_CREDIT, "a share without credit: name who made it"))
    if rules.link_only and not title and text and _only_links(text):
        findings.append(
            Finding(LINK_ONLY, "the post is only a link: say why it is worth the click")
        )
    return findings


def _only_links(text: str) -> bool:
    rest = text
    urls: Iterable[str] = extract_urls(text)
    found = False
    for url in urls:
        rest = rest.replace(url, " ")
        found = True
    return found and not any(char.isalnum() for char in rest)
