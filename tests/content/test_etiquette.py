"""The etiquette lint on real phrasings: asking for retweets, shares, follows or #FF in
several languages is flagged, ordinary sentences that use the same words are not; a share
without credit and a post that is only a link are flagged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.config.schema import DEFAULT_ASK_PATTERNS
from planner.content.etiquette import ASKS, LINK_ONLY, NO_CREDIT, EtiquetteRules, lint_item

RULES = EtiquetteRules.build(DEFAULT_ASK_PATTERNS)


def rules_hit(text: str, kind: str = "help", **fields: str | None) -> set[str]:
    found = lint_item(
        RULES,
        kind=kind,
        text=text,
        title=fields.get("title"),
        credit=fields.get("credit", "Ada"),
    )
    return {finding.rule for finding in found}


ASKING = [
    "Please RT if you found this useful!",
    "pls retweet 🙏",
    "RT if you've ever broken the build on a Friday",
    "Retweet so more people see it",
    "Share this with your team, please!",
    "Follow me for more CI tips",
    "Follow us for daily tips",
    "#FF @ada @lena @tomas",
    "It's Follow Friday: @ada, @lena",
    "#FollowFriday our favourite build people",
    "Bitte teilen! Neue Folge über Caches.",
    "Folgt uns für mehr Tipps",
    "Merci de partager autour de vous",
    "Suivez-nous pour la suite",
    "Síguenos para más consejos",
    "Comparte si te sirvió",
    "Me siga para mais dicas",
    "Seguitemi per altri consigli",
    "Volg ons voor meer tips",
    "Plz share this thread",
]

NOT_ASKING = [
    "We share our build numbers every month.",
    "A follow-up to last week's post on caching.",
    "Follow the steps in the guide to set up the runner.",
    "Retweeted by the whole team, apparently.",
    "#FFmpeg 7 builds twice as fast with this flag.",
    "Sharing is easier with a shared cache: here is how.",
    "Die Folgen von langsamen Builds",
    "La suite de tests tourne en 3 minutes.",
]


@pytest.mark.parametrize("text", ASKING)
def test_asking_for_something_back_is_flagged(text: str) -> None:
    assert ASKS in rules_hit(text)


@pytest.mark.parametrize("text", NOT_ASKING)
def test_the_same_words_in_ordinary_sentences_are_not(text: str) -> None:
    assert ASKS not in rules_hit(text)


def test_the_phrase_found_is_quoted() -> None:
    [finding] = lint_item(RULES, kind="help", text="Great tip. Please RT!", title=None,
                          credit=None)  # fmt: skip
    assert '"Please RT"' in finding.message


def test_a_variant_that_asks_is_flagged_too() -> None:
    found = lint_item(
        RULES, kind="help", text="A tip.", title=None, credit=None,
        variants={"x": {"text": "A tip. RT pls"}},
    )  # fmt: skip
    assert [finding.rule for finding in found] == [ASKS]


def test_a_share_without_credit() -> None:
    assert NO_CREDIT in rules_hit("Worth reading", kind="share", credit=None)
    assert NO_CREDIT in rules_hit("Worth reading", kind="share", credit="  ")
    assert NO_CREDIT not in rules_hit("Worth reading", kind="share", credit="Lena")
    assert NO_CREDIT not in rules_hit("Our own tip", kind="help", credit=None)


@pytest.mark.parametrize(
    ("text", "only_link"),
    [
        ("https://lena.example.dev/merge-queues", True),
        ("  https://a.example/x  —  https://b.example/y ", True),
        ("lena.example.dev/merge-queues", True),
        ("Merge queues, explained: https://lena.example.dev/merge-queues", False),
        ("No link at all", False),
    ],
)
def test_a_post_that_is_only_a_link(text: str, only_link: bool) -> None:
    assert (LINK_ONLY in rules_hit(text)) is only_link


def test_a_title_is_content_beside_a_link() -> None:
    assert LINK_ONLY not in rules_hit("https://a.example/x", title="Merge queues")


def test_no_patterns_no_ask_findings() -> None:
    rules = EtiquetteRules.build([], share_without_credit=False, link_only=False)
    assert lint_item(rules, kind="share", text="Please RT", title=None, credit=None) == []


@given(text=st.text(max_size=200), title=st.none() | st.text(max_size=50))
def test_any_text_is_linted_without_error_and_an_ask_added_is_found(
    text: str, title: str | None
) -> None:
    lint_item(RULES, kind="share", text=text, title=title, credit=None)
    found = lint_item(RULES, kind="help", text=text + " Please RT!", title=title, credit="x")
    assert ASKS in {finding.rule for finding in found}
