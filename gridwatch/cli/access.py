"""`gridwatch auth` and `gridwatch channels`: logins, tokens and notification channels."""

from __future__ import annotations

import click

from gridwatch.cli import database_url_of, main, settings_of


@main.group()
def auth() -> None:
    """Logins and API tokens for the REST and Open311 API."""


@auth.command("demo-logins")
@click.pass_context
def auth_demo_logins(ctx: click.Context) -> None:
    """Give every stored person the demo login and token (docs/API.md); demo sites only."""
    from dispatch.api.accounts import DEMO_PASSWORD, DEMO_TOKEN_PREFIX, ensure_demo_logins
    from gridwatch import db as database

    with database.connection(database_url_of(settings_of(ctx))) as conn:
        count = ensure_demo_logins(conn)
        conn.commit()
    click.echo(
        f"{count} people: login = person id, password {DEMO_PASSWORD!r},"
        f" token {DEMO_TOKEN_PREFIX}<person id>"
    )


@auth.command("password")
@click.argument("person_id")
@click.option("--login", help="Login name (default: the person id).")
@click.password_option(help="The new password (asked for when not given).")
@click.pass_context
def auth_password(ctx: click.Context, person_id: str, login: str | None, password: str) -> None:
    """Set a person's login and password."""
    from dispatch.api.accounts import set_password
    from gridwatch import db as database

    with database.connection(database_url_of(settings_of(ctx))) as conn:
        try:
            set_password(conn, person_id, password, login)
        except (LookupError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        conn.commit()
    click.echo(f"{person_id} can log in as {login or person_id}")


@auth.command("token")
@click.argument("person_id", required=False)
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@click.pass_context
def auth_token(ctx: click.Context, person_id: str | None, label: str) -> None:
    """Print a new API token for PERSON_ID (none: an application key for Open311 reports)."""
    from dispatch.api.accounts import issue_token
    from gridwatch import db as database

    with database.connection(database_url_of(settings_of(ctx))) as conn:
        try:
            token = issue_token(conn, person_id, label)
        except LookupError as err:
            raise click.ClickException(str(err)) from None
        conn.commit()
    click.echo(token)


@main.group()
def channels() -> None:
    """Notification channels (apprise URLs) of people and communities."""


@channels.command("add")
@click.argument("url")
@click.option("--person", "person_id", help="The person the channel reaches.")
@click.option("--community", "community_id", help="The community (its group chat, say).")
@click.option("--label", help="What the channel is, for people reading the list.")
@click.pass_context
def channels_add(
    ctx: click.Context,
    url: str,
    person_id: str | None,
    community_id: str | None,
    label: str | None,
) -> None:
    """Add URL as a channel of a person or a community (checked before it is stored)."""
    from dispatch.notifications import add_channel
    from gridwatch import db as database

    with database.connection(database_url_of(settings_of(ctx))) as conn:
        try:
            channel_id = add_channel(
                conn, url, person_id=person_id, community_id=community_id, label=label
            )
        except (LookupError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        conn.commit()
    click.echo(f"channel {channel_id} added for {person_id or community_id}")


@channels.command("list")
@click.option("--person", "person_id", help="Only this person's (with the site model's).")
@click.option("--community", "community_id", help="Only this community's.")
@click.pass_context
def channels_list(ctx: click.Context, person_id: str | None, community_id: str | None) -> None:
    """List channels, secrets masked."""
    from dispatch.notifications import list_channels
    from gridwatch import db as database

    with database.connection(database_url_of(settings_of(ctx))) as conn:
        rows = list_channels(conn, person_id=person_id, community_id=community_id)
    if not rows:
        click.echo("no channels")
    for row in rows:
        channel_id = "-" if row["id"] is None else str(row["id"])
        owner = row["person_id"] or f"community:{row['community_id']}"
        extra = f"  ({row['label']})" if row["label"] else ""
        extra += "  [site model]" if row["source"] == "site model" else ""
        click.echo(f"{channel_id:>6}  {owner}  {row['channel']}{extra}")


@channels.command("remove")
@click.argument("channel_id", type=int)
@click.pass_context
def channels_remove(ctx: click.Context, channel_id: int) -> None:
    """Remove a stored channel by its id (see `gridwatch channels list`)."""
    from dispatch.notifications import remove_channel
    from gridwatch import db as database

    with database.connection(database_url_of(settings_of(ctx))) as conn:
        if not remove_channel(conn, channel_id):
            raise click.ClickException(f"there is no stored channel {channel_id}")
        conn.commit()
    click.echo(f"channel {channel_id} removed")
