"""Reading queue files: the example queue is valid, and each mistake is named precisely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from planner.config.settings import Config, load_config
from planner.content.files import derive_id, item_from_mapping, queue_file_paths, read_queue_files
from planner.errors import ExitCode, QueueFileError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "planner.toml"
    path.write_text((REPO / "config.example.toml").read_text())
    return load_config(path)


def write(tmp_path: Path, text: str, name: str = "q.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path: Path, config: Config, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(QueueFileError) as caught:
        read_queue_files([path], config)
    assert caught.value.exit_code == ExitCode.USAGE
    return [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]


def test_example_queue_is_valid_and_realistic(config: Config) -> None:
    items = read_queue_files(queue_file_paths([REPO / "queue"]), config)
    kinds = [item.kind for item in items]
    assert kinds.count("share") >= 12
    assert all(item.credit for item in items if item.kind == "share")
    assert kinds.count("promo") >= 4
    assert len({item.id for item in items}) == len(items)


def test_ids_are_derived_from_kind_and_url_so_text_edits_keep_them(
    tmp_path: Path, config: Config
) -> None:
    base = '[[item]]\nkind = "share"\ntitle = "T"\nurl = "https://a.example/x"\ncredit = "Ann"\n'
    (first,) = read_queue_files([write(tmp_path, base)], config)
    (edited,) = read_queue_files([write(tmp_path, base.replace('"T"', '"T2"'))], config)
    assert first.id == edited.id == derive_id("share", "https://a.example/x", None, None)
    assert first.content_hash != edited.content_hash


def test_dates_are_read_in_the_config_timezone(tmp_path: Path, config: Config) -> None:
    text = (
        '[[item]]\nkind = "help"\ntext = "t"\n'
        "not_before = 2026-12-01\nnot_after = 2026-12-02T18:00:00\n"
    )
    (item,) = read_queue_files([write(tmp_path, text)], config)
    assert item.not_before == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # Berlin midnight
    assert item.not_after == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def test_a_date_in_not_after_means_through_that_day(tmp_path: Path, config: Config) -> None:
    (item,) = read_queue_files(
        [write(tmp_path, '[[item]]\nkind = "help"\ntext = "t"\nnot_after = 2026-12-31\n')], config
    )
    assert item.not_after == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(tmp_path, config, '[[item]]\nkind = "help\n')
    assert problem.startswith("q.toml: not valid TOML: ")
    assert "line 2" in problem


def test_unknown_kind(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(
        tmp_path,
        config,
        '[[item]]\nkind = "help"\ntext = "a"\n\n[[item]]\nkind = "advert"\ntext = "b"\n',
    )
    assert problem.startswith('q.toml:6: item[1].kind: unknown kind "advert"')


def test_unknown_key_names_the_item_by_id(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(
        tmp_path, config, '[[item]]\nid = "x1"\nkind = "help"\ntext = "a"\nprio = 3\n'
    )
    assert (
        problem == 'q.toml:5: item[0] (id "x1").prio: unknown key "prio" (did you mean "priority"?)'
    )


def test_missing_text(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(tmp_path, config, '[[item]]\nkind = "help"\n')
    assert problem.startswith("q.toml:1: item[0].text: missing text")


def test_bad_date(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(
        tmp_path, config, '[[item]]\nkind = "help"\ntext = "a"\nnot_after = "next week"\n'
    )
    assert problem.startswith("q.toml:4: item[0].not_after: ")
    assert '"next week" is not a date' in problem


def test_bad_url(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(tmp_path, config, '[[item]]\nkind = "help"\ntext = "a"\nurl = "htp:/x"\n')
    assert problem.startswith('q.toml:4: item[0].url: "htp:/x" is not an http(s) URL')


def test_share_needs_credit(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(
        tmp_path, config, '[[item]]\nkind = "share"\ntitle = "a"\nurl = "https://x.example"\n'
    )
    assert problem.startswith('q.toml:1: item[0].credit: required for kind "share"')


def test_unknown_account(tmp_path: Path, config: Config) -> None:
    (problem,) = problems(
        tmp_path, config, '[[item]]\nkind = "help"\ntext = "a"\naccounts = ["nope"]\n'
    )
    assert problem.startswith('q.toml:4: item[0].accounts: unknown account "nope"')


def test_expiry_before_start(tmp_path: Path, config: Config) -> None:
    text = '[[item]]\nkind = "help"\ntext = "a"\nnot_before = 2026-12-10\nnot_after = 2026-12-01\n'
    (problem,) = problems(tmp_path, config, text)
    assert "not_after must be later than not_before" in problem


def test_duplicate_id_across_files_names_both(tmp_path: Path, config: Config) -> None:
    one = write(tmp_path, '[[item]]\nid = "dup"\nkind = "help"\ntext = "a"\n', "a.toml")
    two = write(tmp_path, '[[item]]\nid = "dup"\nkind = "help"\ntext = "b"\n', "b.toml")
    with pytest.raises(QueueFileError) as caught:
        read_queue_files([one, two], config)
    (problem,) = caught.value.problems
    assert 'duplicate id "dup"' in problem.message and "a.toml" in problem.message


def test_all_problems_in_all_files_are_reported(tmp_path: Path, config: Config) -> None:
    text = 'extra = 1\n\n[[item]]\nkind = "advert"\ntext = "a"\n\n[[item]]\nkind = "help"\n'
    found = problems(tmp_path, config, text)
    assert len(found) == 3


def test_defaults_apply_to_every_item(tmp_path: Path, config: Config) -> None:
    text = (
        '[defaults]\nkind = "help"\naccounts = ["main"]\n\n'
        '[[item]]\ntext = "a"\n\n[[item]]\ntext = "b"\npriority = 2\n'
    )
    items = read_queue_files([write(tmp_path, text)], config)
    assert [(i.kind, i.accounts, i.priority) for i in items] == [
        ("help", ["main"], 0),
        ("help", ["main"], 2),
    ]


def test_evergreen_gets_a_default_cooldown(tmp_path: Path, config: Config) -> None:
    (item,) = read_queue_files(
        [write(tmp_path, '[[item]]\nkind = "help"\ntext = "a"\nevergreen = true\n')], config
    )
    assert item.cooldown_days == 30


def test_item_from_options_reports_option_names(config: Config) -> None:
    with pytest.raises(QueueFileError) as caught:
        item_from_mapping({"kind": "share", "title": "t", "url": "nope"}, config, "command line")
    messages = [str(p) for p in caught.value.problems]
    assert messages == ['command line: url: "nope" is not an http(s) URL']
