"""Loading planner.toml: the example works, and every mistake names the file, line and key."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from planner.config.settings import load_config, parse_config
from planner.errors import ConfigError, ExitCode

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
timezone = "Europe/Berlin"

[accounts.main]
network = "outbox"
slots = ["mon-fri 09:00"]
"""


def problems_for(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("planner.toml"))
    assert caught.value.exit_code == ExitCode.USAGE
    return [str(problem) for problem in caught.value.problems]


def test_example_config_is_complete_and_valid() -> None:
    config = load_config(REPO / "config.example.toml")
    assert set(config.kinds) >= {"share", "help", "promo", "question"}
    assert config.kind_class("promo") == "pitch"
    assert config.settings.accounts["main"].network == "outbox"
    settings = config.balance_for("main")
    assert settings.max_pitch_share == Fraction(1, 5)
    assert (settings.window_posts, settings.window_days, settings.min_pitch_gap_hours) == (
        10,
        7,
        24,
    )
    assert config.database_url == f"sqlite:///{REPO / 'planner.db'}"


def test_defaults_fill_in_a_minimal_file(tmp_path: Path) -> None:
    config = parse_config(MINIMAL, tmp_path / "planner.toml")
    assert config.database_url == f"sqlite:///{tmp_path / 'planner.db'}"
    assert config.queue_path == tmp_path / "queue"
    assert str(config.account_timezone("main")) == "Europe/Berlin"
    assert len(config.account_slots("main")) == 5
    assert config.kind_class("share") == "give"


def test_unknown_top_level_key_is_named_with_line_and_suggestion() -> None:
    (problem,) = problems_for('timezone = "UTC"\nown_domain = ["example.com"]\n')
    assert (
        problem
        == 'planner.toml:2: own_domain: unknown key "own_domain" (did you mean "own_domains"?)'
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[balance]\nratio = "4:1"\n',
         'balance.ratio: unknown key "ratio" (did you mean "give_to_pitch"?)'),
        ('tz = "UTC"\n', 'tz: unknown key "tz" (did you mean "timezone"?)'),
    ],
)  # fmt: skip
def test_a_key_named_for_what_it_sets_is_told_the_real_key(text: str, problem: str) -> None:
    (found,) = problems_for(text)
    assert found.endswith(problem), found


def test_a_top_level_key_written_below_a_table_is_told_where_it_belongs() -> None:
    (problem,) = problems_for('[database]\nurl = "sqlite:///p.db"\ntimezone = "UTC"\n')
    assert problem == (
        'planner.toml:3: database.timezone: "timezone" is not a key of [database]: it belongs '
        "in another table (a key written below a [table] header goes into that table; "
        "top-level keys go above the first one)"
    )


def test_a_table_key_written_at_the_top_level_is_told_it_belongs_in_a_table() -> None:
    (problem,) = problems_for('timezone = "UTC"\nwindow_posts = 10\n')
    assert problem.startswith(
        'planner.toml:2: window_posts: "window_posts" is not a top-level key: it belongs in '
        "another table"
    )


def test_unknown_account_key_is_named_with_its_table() -> None:
    (problem,) = problems_for(MINIMAL + 'netwrok = "x"\n')
    assert problem.startswith("planner.toml:6: accounts.main.netwrok: unknown key")


def test_wrong_type_names_key_and_value() -> None:
    (problem,) = problems_for(MINIMAL + '\n[balance]\nwindow_posts = "10"\n')
    assert problem.startswith("planner.toml:8: balance.window_posts: ")
    assert "'10' (str)" in problem


def test_bad_timezone_names_the_value() -> None:
    (problem,) = problems_for(MINIMAL.replace('"Europe/Berlin"', '"Europe/Berln"'))
    assert problem.startswith("planner.toml:1: timezone: ")
    assert 'unknown timezone "Europe/Berln"' in problem


def test_account_timezone_is_checked_too() -> None:
    (problem,) = problems_for(MINIMAL + 'timezone = "Mars/Olympus"\n')
    assert problem.startswith("planner.toml:6: accounts.main.timezone: ")


def test_slot_with_impossible_hour_is_an_error() -> None:
    (problem,) = problems_for(MINIMAL.replace("mon-fri 09:00", "mon-fri 25:00"))
    assert problem.startswith("planner.toml:5: accounts.main.slots: ")
    assert "mon-fri 25:00" in problem


def test_slot_naming_an_unknown_kind_is_an_error() -> None:
    (problem,) = problems_for(
        MINIMAL.replace('"mon-fri 09:00"', '"mon-fri 09:00", "tue 14:00 promoo"')
    )
    assert problem.startswith("planner.toml:5: accounts.main.slots[1]: ")
    assert 'unknown kind or class "promoo"' in problem


def test_slot_may_name_a_class_or_a_custom_kind() -> None:
    text = MINIMAL.replace('"mon-fri 09:00"', '"mon 09:00 give", "tue 10:00 event"')
    text += '\n[kinds.event]\nclass = "pitch"\n'
    config = parse_config(text, Path("planner.toml"))
    assert [slot.label for slot in config.account_slots("main")] == ["give", "event"]


def test_unknown_kind_class_is_an_error() -> None:
    (problem,) = problems_for(MINIMAL + '\n[kinds.event]\nclass = "sell"\n')
    assert problem.startswith("planner.toml:8: kinds.event.class: ")


def test_a_secret_pasted_as_credential_is_refused_without_echoing_it() -> None:
    secret = "sk-live-0123456789abcdef"
    (problem,) = problems_for(MINIMAL + f'\n[accounts.main.credentials]\ntoken_env = "{secret}"\n')
    assert problem.startswith("planner.toml:8: accounts.main.credentials")
    assert secret not in problem


def test_credential_keys_must_end_in_env() -> None:
    (problem,) = problems_for(MINIMAL + '\n[accounts.main.credentials]\ntoken = "X_TOKEN"\n')
    assert 'credential key "token" must end in "_env"' in problem


def test_preset_and_ratio_together_conflict() -> None:
    (problem,) = problems_for(MINIMAL + '\n[balance]\npreset = "4-1-1"\ngive_to_pitch = "4:1"\n')
    assert problem.startswith("planner.toml:9: balance.give_to_pitch: ")


def test_unknown_preset_lists_the_valid_ones() -> None:
    (problem,) = problems_for(MINIMAL + '\n[balance]\npreset = "90/10"\n')
    assert problem.startswith("planner.toml:8: balance.preset: ")
    assert "80/20" in problem and "4-1-1" in problem


def test_preset_compiles_and_keeps_overrides() -> None:
    text = MINIMAL + '\n[balance]\npreset = "4-1-1"\nmin_pitch_gap_hours = 12\n'
    settings = parse_config(text, Path("planner.toml")).balance_for("main")
    assert settings.max_pitch_share == Fraction(1, 6)
    assert settings.min_pitch_gap_hours == 12
    assert settings.preset == "4-1-1"


def test_account_balance_overrides_the_top_level_one() -> None:
    text = MINIMAL + '\n[accounts.main.balance]\ngive_to_pitch = "2:1"\n'
    config = parse_config(text, Path("planner.toml"))
    assert config.balance_for("main").max_pitch_share == Fraction(1, 3)
    assert config.balance_for_brand().max_pitch_share == Fraction(1, 5)


def test_bad_ratio_is_named() -> None:
    (problem,) = problems_for(MINIMAL + '\n[balance]\ngive_to_pitch = "four to one"\n')
    assert problem.startswith("planner.toml:8: balance.give_to_pitch: ")


def test_bad_own_domain_is_named() -> None:
    (problem,) = problems_for('own_domains = ["https://example.com"]\n' + MINIMAL)
    assert problem.startswith("planner.toml:1: own_domains: ")


def test_toml_syntax_error_gives_the_parser_line() -> None:
    (problem,) = problems_for('timezone = "UTC\n')
    assert problem.startswith("planner.toml: not valid TOML: ")
    assert "line 1" in problem


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_for('timezone = "Nowhere"\nbogus = 1\n')
    assert len(problems) == 2


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="planner init"):
        load_config(tmp_path / "planner.toml")


def test_relative_sqlite_url_is_beside_the_config(tmp_path: Path) -> None:
    text = MINIMAL + '\n[database]\nurl = "sqlite:///data/p.db"\n'
    config = parse_config(text, tmp_path / "planner.toml")
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'p.db'}"


def test_an_unknown_network_is_named_with_the_installed_ones() -> None:
    (problem,) = problems_for(MINIMAL.replace('"outbox"', '"twiter"'))
    assert problem.startswith('planner.toml:4: accounts.main.network: unknown network "twiter"')
    assert "console" in problem and "outbox" in problem
