"""Issue 10's scenario, as a brand would live it: two accounts with their own rules plan a
week, and each account's preview tells only its own story.

roast_x (X, Europe/Berlin, the brand's 4:1 over 10 posts) has a typed promo slot on
Wednesdays; roast_md (an outbox, America/New_York, its own 4-1-1 preset) posts three times a
day. A dated promo must go out before it expires, six more promos compete for the rest, and a
tip grows too long for X after a template edit (so it is skipped there, and only there).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner, Result

from planner.cli import main

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
WEEK = "2026-W51"  # Mon 14 - Sun 20 December 2026

CONFIG = """\
timezone = "Europe/Berlin"

[database]
url = "{db_url}"

[balance]
give_to_pitch = "4:1"
window_posts = 10

[kinds.share]
class = "give"
weight = 5
[kinds.help]
class = "give"
weight = 5
[kinds.promo]
class = "pitch"
weight = 1

[accounts.roast_x]
network = "x"
slots = ["mon-fri 08:30", "mon-fri 14:00", "wed 12:00 promo"]
[accounts.roast_x.credentials]
api_key_env = "X_API_KEY"
api_secret_env = "X_API_SECRET"
access_token_env = "X_ACCESS_TOKEN"
access_token_secret_env = "X_ACCESS_TOKEN_SECRET"

[accounts.roast_md]
network = "outbox"
timezone = "America/New_York"
slots = ["daily 09:00", "daily 13:00", "daily 17:00"]
[accounts.roast_md.balance]
preset = "4-1-1"
"""

LONG_HELP = "Grind size matters. " * 12
# After the sync, the help template adds a line to long tips: 300 weighted characters on X.
HELP_TEMPLATE_AFTER = (
    "{{ text }}{% if text|length > 200 %} Read the whole guide on our site, with photos of "
    "each grind.{% endif %}"
)


def queue() -> str:
    items = [
        f'[[item]]\nid = "share-{n:02d}"\nkind = "share"\ntitle = "Roasting note {n}"\n'
        f'url = "https://coffee{n}.example/post"\ncredit = "Roaster {n}"\n'
        for n in range(31)
    ]
    items += [
        f'[[item]]\nid = "tip-{n:02d}"\nkind = "help"\ntext = "Tip {n}: weigh your beans."\n'
        for n in range(21)
    ]
    items.append(f'[[item]]\nid = "tip-long"\nkind = "help"\npriority = 5\ntext = "{LONG_HELP}"\n')
    items.append(
        '[[item]]\nid = "promo-cupping"\nkind = "promo"\ntext = "Join our cupping on Friday."\n'
        "not_after = 2026-12-17\n"
    )
    items += [
        f'[[item]]\nid = "promo-{n}"\nkind = "promo"\ntext = "Our roast number {n} is out."\n'
        for n in range(6)
    ]
    # For X alone, and not due before next summer: nothing to say about it this week.
    items.append(
        '[[item]]\nid = "promo-summer"\nkind = "promo"\ntext = "Cold brew season."\n'
        'accounts = ["roast_x"]\nnot_before = 2027-06-01\n'
    )
    return "\n".join(items)


@pytest.fixture
def brand(tmp_path: Path, db_url: str) -> Path:
    (tmp_path / "queue").mkdir()
    (tmp_path / "queue" / "items.toml").write_text(queue())
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    config = tmp_path / "planner.toml"
    config.write_text(CONFIG.format(db_url=db_url))
    assert planner(config, "queue", "sync").exit_code == 0
    (tmp_path / "templates" / "help.txt.j2").write_text(HELP_TEMPLATE_AFTER)
    return config


def planner(config: Path, *args: str) -> Result:
    with time_machine.travel(NOW, tick=False):
        return CliRunner().invoke(main, ["--config", str(config), *args])


def preview(config: Path) -> dict[str, dict[str, Any]]:
    result = planner(config, "preview", "--week", WEEK, "--format", "json")
    assert result.exit_code == 0, result.output
    return {account["account"]: account for account in json.loads(result.stdout)["accounts"]}


def slots_of(account: dict[str, Any]) -> list[dict[str, Any]]:
    return [slot for day in account["days"] for slot in day["slots"]]


def reasons(account: dict[str, Any]) -> list[str]:
    summary = account["summary"]
    return [
        entry["reason"]
        for group in ("held", "waiting", "expired", "skipped")
        for entry in summary[group]
    ]


def test_each_account_tells_its_own_story(brand: Path) -> None:
    plan = planner(brand, "plan", "--week", WEEK)
    assert plan.exit_code == 0, plan.output
    accounts = preview(brand)
    x, md = accounts["roast_x"], accounts["roast_md"]

    # Per-account reasons: each names its own rule's numbers, never the other account.
    assert all("roast_md" not in reason for reason in reasons(x))
    assert all("roast_x" not in reason for reason in reasons(md))
    assert any("> 20 %" in r for r in reasons(x)) and not any("> 17 %" in r for r in reasons(x))
    assert any("> 17 %" in r for r in reasons(md)) and not any("> 20 %" in r for r in reasons(md))

    # Held items get distinct next fits on each account.
    for account in (x, md):
        fits = [held["next_fit"] for held in account["summary"]["held"] if held["next_fit"]]
        assert fits and len(fits) == len(set(fits)), account["account"]

    # The typed Wednesday promo slot is used by a promo.
    typed = [slot for slot in slots_of(x) if slot["label"] == "promo"]
    assert len(typed) == 1 and typed[0]["kind"] == "promo" and typed[0]["class"] == "pitch"

    # The dated promo is planned on both accounts, before it expires.
    for account in (x, md):
        cupping = [slot for slot in slots_of(account) if slot["item"] == "promo-cupping"]
        assert len(cupping) == 1 and cupping[0]["at"] < "2026-12-17", account["account"]
        assert all(e["item"] != "promo-cupping" for e in account["summary"]["expired"])

    # Promos the mix kept out are waiting, and say which weight to raise.
    for account in (x, md):
        waiting = account["summary"]["waiting"]
        assert waiting, account["account"]
        assert all("raise [kinds.promo] weight" in entry["reason"] for entry in waiting)
        # Each pitch left out is either held or waiting on that account, never both.
        held = {entry["item"] for entry in account["summary"]["held"]}
        assert held.isdisjoint(entry["item"] for entry in waiting)
        assert held | {entry["item"] for entry in waiting} == {f"promo-{n}" for n in range(6)} - {
            slot["item"] for slot in slots_of(account)
        }

    # The tip too long for X is skipped on X only, with the fix; the outbox posts it.
    assert [entry["item"] for entry in x["summary"]["skipped"]] == ["tip-long"]
    assert "[item.variants.x] text" in x["summary"]["skipped"][0]["reason"]
    assert md["summary"]["skipped"] == []
    assert any(slot["item"] == "tip-long" for slot in slots_of(md))
    assert "1 skipped item (cannot be rendered): tip-long" in x["summary"]["problems"]

    # --check fails on it, naming the account and the item.
    check = planner(brand, "preview", "--week", WEEK, "--check")
    assert check.exit_code == 1
    assert "roast_x: 1 skipped item (cannot be rendered): tip-long" in check.output


def test_re_planning_gives_the_same_posts_and_the_same_verdicts(brand: Path) -> None:
    first = planner(brand, "plan", "--week", WEEK, "--json")
    again = planner(brand, "plan", "--week", WEEK, "--json")
    assert first.exit_code == again.exit_code == 0
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    for key in ("slots", "held", "waiting", "expired", "skipped"):
        assert one[key] == two[key], key
    assert preview(brand) == preview(brand)


def test_a_hold_on_one_account_leaves_the_other_planned(brand: Path) -> None:
    assert planner(brand, "hold", "promo-cupping", "--account", "roast_md").exit_code == 0
    assert planner(brand, "plan", "--week", WEEK).exit_code == 0
    accounts = preview(brand)
    x, md = accounts["roast_x"], accounts["roast_md"]
    assert any(slot["item"] == "promo-cupping" for slot in slots_of(x))
    assert not any(slot["item"] == "promo-cupping" for slot in slots_of(md))
    held_md = {entry["item"]: entry for entry in md["summary"]["held"]}
    assert held_md["promo-cupping"]["next_fit"] is None  # held by hand: not tried
    assert "promo-cupping" not in {entry["item"] for entry in x["summary"]["held"]}

    status = planner(brand, "status")
    assert "  roast_md: promo-cupping (promo): held by hand on this account" in status.output

    again = planner(brand, "release", "promo-cupping", "--account", "roast_md")
    assert again.exit_code == 0, again.output
    assert planner(brand, "plan", "--week", WEEK).exit_code == 0
    assert any(slot["item"] == "promo-cupping" for slot in slots_of(preview(brand)["roast_md"]))


def refused(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    return result.output.strip().splitlines()[-1]


def test_holds_by_hand_per_account_say_what_they_did_and_refuse_what_makes_no_sense(
    brand: Path,
) -> None:
    assert "no account 'nobody'" in refused(
        planner(brand, "hold", "promo-1", "--account", "nobody"), 2
    )
    assert refused(planner(brand, "hold", "promo-summer", "--account", "roast_md")) == (
        "Error: promo-summer does not go to roast_md: its accounts are roast_x"
    )
    assert refused(planner(brand, "release", "promo-1", "--account", "roast_x")) == (
        "Error: promo-1 is not held on roast_x"
    )
    held = planner(brand, "hold", "promo-cupping", "--account", "roast_x")
    assert held.output.startswith("held promo-cupping on roast_x; run `planner plan`")
    assert refused(planner(brand, "hold", "promo-cupping", "--account", "roast_x")).startswith(
        "Error: promo-cupping is already held by hand on roast_x; "
    )

    # Held everywhere, then released on one account: the other stays held.
    assert planner(brand, "release", "promo-cupping", "--account", "roast_x").exit_code == 0
    assert planner(brand, "hold", "promo-cupping").exit_code == 0
    assert planner(brand, "release", "promo-cupping", "--account", "roast_x").exit_code == 0
    assert planner(brand, "plan", "--week", WEEK).exit_code == 0
    accounts = preview(brand)
    assert any(slot["item"] == "promo-cupping" for slot in slots_of(accounts["roast_x"]))
    held_md = {entry["item"]: entry["reason"] for entry in accounts["roast_md"]["summary"]["held"]}
    assert held_md["promo-cupping"] == "held by hand on this account (planner hold --account)"
