"""``planner config``: check the configuration."""

from __future__ import annotations

import os
from typing import Any

import click

from planner.cli._app import AppState, CommandFailed, echo_json, pass_state
from planner.config.report import describe_config
from planner.config.verify import verify_accounts


@click.group("config")
def config_group() -> None:
    """Inspect the configuration.

    `planner config check` validates it and shows it resolved, secrets redacted.

    \b
    Example:
      planner config check --json
    """


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved config as JSON.")
@click.option(
    "--online",
    is_flag=True,
    help="Also ask each account's network who its credentials belong to (exit 1 if any fail).",
)
@pass_state
def check_command(state: AppState, as_json: bool, online: bool) -> None:
    """Validate planner.toml and print it as resolved, with every secret redacted.

    Credentials are shown as the environment variable they are read from and whether it
    is set, never their value. Exits 2 naming the file, line and key of every problem.
    Without --online nothing touches a network.

    \b
    Example:
      planner config check --online   # also ask each network whose credentials they are
    """
    report = describe_config(state.config)
    checks = verify_accounts(state.config, os.environ) if online else []
    if as_json:
        if online:
            report["online"] = [
                {"account": c.account, "network": c.network, "ok": c.ok, "detail": c.detail}
                for c in checks
            ]
        echo_json(report)
    else:
        _print_report(report)
        if online:
            click.echo("online:")
            for check in checks:
                state_word = "ok" if check.ok else "FAILED"
                click.echo(f"  {check.account} ({check.network}): {state_word}: {check.detail}")
    failed = [check.account for check in checks if not check.ok]
    if failed:
        raise CommandFailed(f"credentials check failed for: {', '.join(failed)}")


def _print_report(report: dict[str, Any]) -> None:
    click.echo(f"{report['config']}: ok")
    click.echo(f"  timezone   {report['timezone']}")
    click.echo(f"  database   {report['database']}")
    click.echo(f"  queue      {report['queue_dir']}")
    click.echo(f"  templates  {report['templates_dir']}")
    click.echo(f"  own domains {', '.join(report['own_domains']) or '(none)'}")
    click.echo(f"  balance    {_balance_line(report['balance'])}")
    click.echo("kinds:")
    for name, kind in report["kinds"].items():
        requires = f", requires {', '.join(kind['requires'])}" if kind["requires"] else ""
        click.echo(f"  {name:<12} {kind['class']:<5} weight {kind['weight']}{requires}")
    lint = report["lint"]
    click.echo(f"  lint       {lint['mode']}, {len(lint['ask_patterns'])} ask patterns")
    for name, feed in report["feeds"].items():
        click.echo(f"  feed {name}: {feed['url']} -> {feed['kind']}")
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
    """The whole rule on one line: ratio, both windows, the gap, the scope, what is inherited."""
    ratio = f"pitch <= {balance['max_pitch_share']} ({balance['max_pitch_percent']:g} %)"
    if balance["preset"]:
        ratio = f"preset {balance['preset']}: {ratio}"
    posts = f"last {balance['window_posts']} posts" if balance["window_posts"] else "no post window"
    days = f"last {balance['window_days']:g} days" if balance["window_days"] else "no days window"
    gap = balance["min_pitch_gap_hours"]
    gap_text = f"pitches >= {gap:g} h apart" if gap else "no minimum gap between pitches"
    line = f"{ratio}, {posts} and {days}, {gap_text}, scope {balance['scope']}"
    inherited = balance.get("from_balance")
    if inherited is not None and len(inherited) == len(_RULE_KEYS):
        line += " (all from [balance])"
    elif inherited:
        *first, last = [_RULE_KEYS[key] for key in inherited]
        names = f"{', '.join(first)} and {last}" if first else last
        line += f" ({names} from [balance])"
    return line


_RULE_KEYS = {
    "ratio": "ratio",
    "window_posts": "post window",
    "window_days": "days window",
    "min_pitch_gap_hours": "gap",
}
