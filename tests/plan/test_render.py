"""Post text rendering: which template is chosen, what it sees, and how failures are reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from planner.config.settings import load_config
from planner.content.files import QueueItem, queue_file_paths, read_queue_files
from planner.errors import ExitCode, InputError
from planner.plan.render import Renderer, RenderError, RenderInput
from planner.store.models import Item
from planner.workspace import default_templates_dir

REPO = Path(__file__).resolve().parents[2]

SHARE = RenderInput(
    id="share-abc",
    kind="share",
    title="Merge queues, explained with trains",
    url="https://lena.example.dev/merge-queues",
    credit="Lena Fischer",
)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


@pytest.fixture
def builtin_dir(tmp_path: Path) -> Path:
    """A stand-in for the built-in templates, so tests do not depend on their wording."""
    folder = tmp_path / "builtin"
    write(folder, "share.txt.j2", 'builtin: "{{ title }}" by {{ credit }} {{ url }}')
    write(folder, "help.txt.j2", "builtin help: {{ text }}")
    return folder


# -- the built-in templates ------------------------------------------------------------------


def example_items() -> list[QueueItem]:
    config = load_config(REPO / "config.example.toml")
    return read_queue_files(queue_file_paths([REPO / "queue"]), config)


def test_built_in_templates_render_every_example_item() -> None:
    items = example_items()
    assert {item.kind for item in items} >= {"share", "help", "promo", "question"}
    renderer = Renderer(None)
    for item in items:
        text = renderer.render(RenderInput.from_item(item), "outbox", "main")
        assert text == text.strip() and "  " not in text, item.id
        assert "None" not in text, item.id
        if item.url:
            assert item.url in text, item.id
        if item.kind == "share":
            assert f'"{item.title}" by {item.credit} {item.url}' in text


def test_built_in_share_template_prefixes_the_text_when_there_is_one() -> None:
    renderer = Renderer(None, default_templates_dir())
    with_text = replace(SHARE, text="A must-read:")
    assert renderer.render(with_text, "x", "main") == (
        'A must-read: "Merge queues, explained with trains" by Lena Fischer '
        "https://lena.example.dev/merge-queues"
    )
    assert renderer.render(SHARE, "x", "main") == (
        '"Merge queues, explained with trains" by Lena Fischer '
        "https://lena.example.dev/merge-queues"
    )


def test_built_in_promo_template_appends_the_url() -> None:
    promo = RenderInput(
        id="free-tier", kind="promo", text="Build free.", url="https://brightline.example/oss"
    )
    assert Renderer(None).render(promo, "mastodon", "main") == (
        "Build free. https://brightline.example/oss"
    )


def test_from_item_reads_an_orm_item() -> None:
    row = Item(
        id="tip-1",
        kind="help",
        text="Cache on the lock file.",
        title=None,
        url=None,
        credit=None,
        fields={"emoji": "*"},
        variants={"x": {"text": "short"}},
        tags=["ci"],
    )
    item = RenderInput.from_item(row)
    assert item == RenderInput(
        id="tip-1",
        kind="help",
        text="Cache on the lock file.",
        fields={"emoji": "*"},
        variants={"x": {"text": "short"}},
        tags=("ci",),
    )


# -- which template --------------------------------------------------------------------------


def test_user_file_overrides_the_built_in_file_of_the_same_name(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(user_dir, "share.txt.j2", "mine: {{ title }} {{ url }}")
    renderer = Renderer(user_dir, builtin_dir)
    assert renderer.render(SHARE, "x", "main") == (
        "mine: Merge queues, explained with trains https://lena.example.dev/merge-queues"
    )
    # file by file: a kind the user did not override still uses the built-in template
    help_item = RenderInput(id="h", kind="help", text="Use timeouts.")
    assert renderer.render(help_item, "x", "main") == "builtin help: Use timeouts."


def test_missing_user_folder_falls_back_to_the_built_in_templates(
    tmp_path: Path, builtin_dir: Path
) -> None:
    renderer = Renderer(tmp_path / "does-not-exist", builtin_dir)
    assert renderer.render(SHARE, "x", "main").startswith("builtin:")


def test_network_specific_template_wins_for_that_network_only(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(user_dir, "share.mastodon.txt.j2", "toot: {{ url }} via {{ credit }}")
    renderer = Renderer(user_dir, builtin_dir, {"share": "custom.txt.j2"})
    write(user_dir, "custom.txt.j2", "custom")
    assert renderer.render(SHARE, "mastodon", "main") == (
        "toot: https://lena.example.dev/merge-queues via Lena Fischer"
    )
    assert renderer.render(SHARE, "bluesky", "main") == "custom"


def test_network_specific_template_in_the_built_in_folder_is_found(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(builtin_dir, "share.bluesky.txt.j2", "sky: {{ url }}")
    renderer = Renderer(user_dir, builtin_dir)
    assert renderer.render(SHARE, "bluesky", "main") == (
        "sky: https://lena.example.dev/merge-queues"
    )


def test_configured_template_name_is_used_for_its_kind(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "curated.txt.j2", "Worth your time: {{ title }} ({{ credit }})")
    renderer = Renderer(user_dir, builtin_dir, {"share": "curated.txt.j2", "help": None})
    assert renderer.render(SHARE, "x", "main") == (
        "Worth your time: Merge queues, explained with trains (Lena Fischer)"
    )
    help_item = RenderInput(id="h", kind="help", text="Use timeouts.")
    assert renderer.render(help_item, "x", "main") == "builtin help: Use timeouts."


def test_configured_template_that_does_not_exist_is_an_error(
    user_dir: Path, builtin_dir: Path
) -> None:
    renderer = Renderer(user_dir, builtin_dir, {"share": "typo.txt.j2"})
    with pytest.raises(RenderError, match=r'item "share-abc": kind "share" .*"typo.txt.j2"'):
        renderer.render(SHARE, "x", "main")


def test_variant_text_wins_over_templates_and_is_literal(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "share.x.txt.j2", "network template")
    item = replace(SHARE, variants={"x": {"text": "  Literal {{ title }} {% if %}  "}})
    renderer = Renderer(user_dir, builtin_dir)
    assert renderer.render(item, "x", "main") == "Literal {{ title }} {% if %}"
    assert renderer.render(item, "mastodon", "main").startswith("builtin:")


def test_template_sees_item_fields_and_where_the_post_goes(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(
        user_dir,
        "event.txt.j2",
        "{{ id }}/{{ kind }} on {{ network }} for {{ account }}: {{ venue }} "
        "#{{ tags | join(' #') }}",
    )
    item = RenderInput(id="meetup", kind="event", fields={"venue": "Hall 2"}, tags=["ci", "ops"])
    assert Renderer(user_dir, builtin_dir).render(item, "mastodon", "brand") == (
        "meetup/event on mastodon for brand: Hall 2 #ci #ops"
    )


def test_unset_optional_attribute_is_false_in_a_test(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "help.txt.j2", "{{ text }}{% if url %} {{ url }}{% endif %}")
    item = RenderInput(id="h", kind="help", text="No link here.")
    assert Renderer(user_dir, builtin_dir).render(item, "x", "main") == "No link here."


# -- no template -----------------------------------------------------------------------------


def test_no_template_falls_back_to_the_text_and_url(user_dir: Path, builtin_dir: Path) -> None:
    renderer = Renderer(user_dir, builtin_dir)
    item = RenderInput(id="e", kind="event", text="Meetup tonight.", url="https://ev.example/1")
    assert renderer.render(item, "x", "main") == "Meetup tonight. https://ev.example/1"


def test_no_template_does_not_repeat_a_url_already_in_the_text(
    user_dir: Path, builtin_dir: Path
) -> None:
    renderer = Renderer(user_dir, builtin_dir)
    item = RenderInput(
        id="e", kind="event", text="See https://ev.example/1 tonight.", url="https://ev.example/1"
    )
    assert renderer.render(item, "x", "main") == "See https://ev.example/1 tonight."


def test_no_template_and_no_text_is_an_error(user_dir: Path, builtin_dir: Path) -> None:
    item = RenderInput(id="e", kind="event", title="Meetup")
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(item, "x", "main")
    assert str(caught.value) == 'item "e": no template event.txt.j2 and no text'
    assert caught.value.exit_code == ExitCode.USAGE
    assert isinstance(caught.value, InputError)


# -- errors ----------------------------------------------------------------------------------


def test_missing_variable_names_item_template_line_and_variable(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(user_dir, "share.txt.j2", "{{ title }}\nvia {{ credit }}\n{{ url }}")
    item = replace(SHARE, credit=None)
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(item, "x", "main")
    error = caught.value
    assert (error.item_id, error.template, error.line, error.variable) == (
        "share-abc",
        "share.txt.j2",
        2,
        "credit",
    )
    assert str(error).startswith(
        'item "share-abc": template share.txt.j2 line 2: variable "credit" is undefined'
    )


def test_misspelt_variable_is_an_error_even_in_a_test(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "help.txt.j2", "{% if txet %}{{ text }}{% endif %}")
    item = RenderInput(id="h", kind="help", text="Tip.")
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(item, "x", "main")
    assert caught.value.variable == "txet"
    assert str(caught.value) == (
        'item "h": template help.txt.j2 line 1: variable "txet" is undefined'
    )


def test_syntax_error_names_template_and_line(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "share.txt.j2", "{{ title }}\n{{ credit }}\n{{ url }\n")
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(SHARE, "x", "main")
    assert (caught.value.template, caught.value.line) == ("share.txt.j2", 3)
    assert str(caught.value) == "item \"share-abc\": template share.txt.j2 line 3: unexpected '}'"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ title.__class__.__base__.__subclasses__() }}",
        "{{ tags.__len__.__globals__ }}",
    ],
)
def test_sandbox_blocks_access_to_python_internals(
    user_dir: Path, builtin_dir: Path, source: str
) -> None:
    write(user_dir, "share.txt.j2", source)
    with pytest.raises(RenderError, match=r"template share\.txt\.j2 line 1: unsafe operation: "):
        Renderer(user_dir, builtin_dir).render(SHARE, "x", "main")


def test_runtime_failure_in_a_template_is_reported(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "share.txt.j2", "{{ title }}\n{{ 1 // 0 }}")
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(SHARE, "x", "main")
    assert str(caught.value) == (
        'item "share-abc": template share.txt.j2 line 2: ZeroDivisionError: '
        "integer division or modulo by zero"
    )


def test_error_in_an_included_template_names_the_included_file(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(user_dir, "footer.j2", "\n{{ signature }}")
    write(user_dir, "share.txt.j2", "{{ title }}\n{% include 'footer.j2' %}")
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(SHARE, "x", "main")
    error = caught.value
    assert (error.template, error.line, error.variable) == ("footer.j2", 2, "signature")


def test_field_shadowing_a_built_in_variable_is_refused(builtin_dir: Path) -> None:
    item = replace(SHARE, fields={"url": "https://elsewhere.example"})
    with pytest.raises(RenderError) as caught:
        Renderer(None, builtin_dir).render(item, "x", "main")
    assert caught.value.variable == "url"
    assert str(caught.value).startswith('item "share-abc": field "url"')


def test_empty_result_is_refused(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "help.txt.j2", "{% if title %}{{ title }}{% endif %}  \n ")
    item = RenderInput(id="h", kind="help", text="Tip.")
    with pytest.raises(RenderError) as caught:
        Renderer(user_dir, builtin_dir).render(item, "x", "main")
    assert str(caught.value) == 'item "h": template help.txt.j2: the rendered post is empty'


def test_empty_variant_text_is_refused(builtin_dir: Path) -> None:
    item = replace(SHARE, variants={"x": {"text": "   "}})
    with pytest.raises(RenderError, match='item "share-abc": the x variant'):
        Renderer(None, builtin_dir).render(item, "x", "main")


# -- output ----------------------------------------------------------------------------------


def test_whitespace_from_empty_parts_collapses_but_newlines_stay(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(
        user_dir,
        "share.txt.j2",
        "\n  {{ text or '' }}  {{ title }} {% if credit %}{{ credit }}{% endif %} \n\n"
        "  {{ url }}   {{ hashtag or '' }}\n\n",
    )
    item = replace(SHARE, credit=None, fields={"hashtag": ""})
    assert Renderer(user_dir, builtin_dir).render(item, "x", "main") == (
        "Merge queues, explained with trains\n\n  https://lena.example.dev/merge-queues"
    )


def test_renders_are_repeatable_with_the_cached_template(user_dir: Path, builtin_dir: Path) -> None:
    write(user_dir, "help.txt.j2", "{{ text }} ({{ network }})")
    renderer = Renderer(user_dir, builtin_dir)
    first = RenderInput(id="a", kind="help", text="One.")
    second = RenderInput(id="b", kind="help", text="Two.")
    assert renderer.render(first, "x", "main") == "One. (x)"
    assert renderer.render(second, "x", "main") == "Two. (x)"
    assert renderer.render(first, "mastodon", "main") == "One. (mastodon)"


# -- check_templates -------------------------------------------------------------------------


def test_built_in_templates_all_compile() -> None:
    assert Renderer(None).check_templates() == []


def test_check_templates_reports_broken_files_and_unknown_configured_names(
    user_dir: Path, builtin_dir: Path
) -> None:
    write(builtin_dir, "promo.txt.j2", "{% if text %}{{ text }}")  # broken, not overridden
    write(builtin_dir, "help.txt.j2", "{{ broken")  # broken but overridden: never used
    write(user_dir, "help.txt.j2", "{{ text }}")
    write(user_dir, "notes.md", "{{ not a template")  # not a post template: ignored
    renderer = Renderer(user_dir, builtin_dir, {"share": "typo.txt.j2", "help": None})
    problems = renderer.check_templates()
    assert len(problems) == 2, problems
    assert problems[0].startswith('kind "share": template "typo.txt.j2"')
    assert problems[1].startswith(f"{builtin_dir / 'promo.txt.j2'}:1: Unexpected end of template")


# -- one text for every account ------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "same"),
    [
        ('"{{ title }}" by {{ credit }} {{ url }}', True),
        ("{{ title }} for {{ account }}", False),
        ("{% if account == 'a' %}{{ title }}{% else %}{{ url }}{% endif %}", False),
        ("{{ title }} {{ lipsum(1) }}", False),
        ("{{ ['read', 'see'] | random }}: {{ title }}", False),
        ("{% include 'footer.j2' %}{{ title }}", False),
    ],
)
def test_a_template_renders_one_text_for_every_account_unless_it_may_differ(
    user_dir: Path, builtin_dir: Path, template: str, same: bool
) -> None:
    write(user_dir, "share.txt.j2", template)
    write(user_dir, "footer.j2", "by {{ account }} ")
    renderer = Renderer(user_dir, builtin_dir)
    texts = {renderer.render(SHARE, "mastodon", account) for account in ("a", "b")}
    assert renderer.same_for_every_account(SHARE, "mastodon") is same
    if same:
        assert len(texts) == 1


def test_variant_and_plain_texts_are_the_same_for_every_account(
    user_dir: Path, builtin_dir: Path
) -> None:
    renderer = Renderer(user_dir, builtin_dir)
    variant = replace(SHARE, variants={"bluesky": {"text": "Short take"}})
    plain = RenderInput(id="note-1", kind="note", text="A plain note")
    assert renderer.render(variant, "bluesky", "a") == "Short take"
    assert renderer.render(plain, "x", "a") == "A plain note"
    assert renderer.same_for_every_account(variant, "bluesky")
    assert renderer.same_for_every_account(plain, "x")
