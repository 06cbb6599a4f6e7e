"""``planner config``: check the configuration."""

from __future__ import annotations

from typing import Any

import click

from planner.cli._app import AppState, echo_json, pass_state
from planner.config_report import describe_config


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved config as JSON.")
@pass_state
def check_command(state: AppState, as_json: bool) -> None:
    """Validate planner.toml and print it as resolved, with every secret redacted.

    Credentials are shown as the environment variable they are read from and whether it
    is set, never their value. Exits 2 naming the file, line and key of every problem.
    """
    report = describe_config(state.config)
    if as_json:
        echo_json(report)
        return
    click.echo(f"{report['config']}: ok")
    click.echo(f"  timezone   {report['timezone']}")
    click.echo(f"  database   {report['database']}")
    click.echo(f"  queue      {report['queue_dir']}")
    click.echo(f"  templates  {report['templates_dir']}")
    click.echo(f"  own domains {', '.join(report['own_domains']) or '(none)'}")
    click.echo(
        f"  balance    {_balance_line(report['balance'])}, scope {report['balance']['scope']}"
    )
    click.echo("kinds:")
    for name, kind in report["kinds"].items():
        requires = f", requires {', '.join(kind['requires'])}" if kind["requires"] else ""
        click.echo(f"  {name:<12} {kind['class']:<5} weight {kind['weight']}{requires}")
    if not report["accounts"]:
        click.echo("accounts: none (add an [accounts.NAME] table to plan posts)")
        return
    click.echo("accounts:")
    for name, account in report["accounts"].items():
        click.echo(
            f"  {name}: {account['network']}, {account['timezone']}, "
            f"{account['slots_per_week']} slots a week ({'; '.join(account['slots'])})"
        )
        click.echo(f"    balance {_balance_line(account['balance'])}")
        for key, cred in account["credentials"].items():
            state_word = "set" if cred["set"] else "NOT SET"
            click.echo(f"    {key} = {cred['env']} ({state_word})")
        for key, value in account["options"].items():
            click.echo(f"    {key} = {value}")


def _balance_line(balance: dict[str, Any]) -> str:
    parts = [f"pitch <= {balance['max_pitch_share']} ({balance['max_pitch_percent']:g} %)"]
    if balance["preset"]:
        parts[0] = f"preset {balance['preset']}: " + parts[0]
    windows = []
    if balance["window_posts"]:
        windows.append(f"last {balance['window_posts']} posts")
    if balance["window_days"]:
        windows.append(f"last {balance['window_days']:g} days")
    parts.append(" and ".join(windows))
    if balance["min_pitch_gap_hours"]:
        parts.append(f"pitches >= {balance['min_pitch_gap_hours']:g} h apart")
    return ", ".join(parts)
