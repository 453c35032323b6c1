"""Manage agents: ``python -m handoff.cli add|list|disable|reset-password|set-role``.

The first admin is made here (``add --admin`` or ``set-role LOGIN admin``); admins then
manage the rest in the desk. Changes made here are audited as made by ``cli``.

Passwords are read from a hidden prompt (asked twice) or, with ``--password-stdin``,
from the first line of standard input; never from the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TextIO

from . import db
from .events import InProcessEventBus
from .service import HandoffService, ServiceError
from .settings import Settings


class CliError(Exception):
    """A user error shown as ``error: ...`` with exit status 1."""


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    """The new password from stdin's first line, or a hidden prompt asked twice."""
    stdin = stdin or sys.stdin
    if from_stdin:
        line = stdin.readline()
        if not line:
            raise CliError("no password on standard input")
        return line.rstrip("\r\n")
    if not stdin.isatty():
        raise CliError("no terminal to prompt for a password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CliError("the two passwords differ")
    return first


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m handoff.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add an agent")
    add.add_argument("login")
    add.add_argument("--name", required=True, help="name shown to customers")
    add.add_argument("--max-chats", type=int, help="concurrent chat cap (default 3)")
    add.add_argument("--password-stdin", action="store_true")
    add.add_argument("--admin", action="store_true", help="may manage agents, replies, labels")
    role = sub.add_parser("set-role", help="make an agent an admin, or a plain agent again")
    role.add_argument("login")
    role.add_argument("role", choices=("admin", "agent"))
    sub.add_parser("list", help="list agents")
    disable = sub.add_parser("disable", help="disable an agent (chats go back to the queue)")
    disable.add_argument("login")
    reset = sub.add_parser("reset-password", help="set a new password")
    reset.add_argument("login")
    reset.add_argument("--password-stdin", action="store_true")
    return parser


async def run(args: argparse.Namespace, settings: Settings, out: TextIO) -> None:
    """Execute one parsed command against the configured database."""
    engine = db.create_engine(settings.database_url)
    try:
        await db.upgrade(engine)
        service = HandoffService(engine, InProcessEventBus(), settings)
        if args.command == "add":
            password = read_password(args.password_stdin)
            role = "admin" if args.admin else "agent"
            agent = await service.create_agent(
                args.login, args.name, password, args.max_chats, role=role
            )
            print(
                f"added {agent.role} {agent.login} ({agent.name}), cap {agent.max_chats}", file=out
            )
        elif args.command == "list":
            rows = await service.list_agents()
            if not rows:
                print(
                    "no agents yet: add one with  python -m handoff.cli add LOGIN --name NAME",
                    file=out,
                )
            for agent in rows:
                state = "disabled" if agent.disabled else ("online" if agent.online else "away")
                print(
                    f"{agent.login:20} {agent.name:30} {agent.role:6} {state:9} "
                    f"{agent.load}/{agent.max_chats}",
                    file=out,
                )
        elif args.command == "set-role":
            target = await service.get_agent_by_login(args.login)
            agent = await service.update_agent(target.id, role=args.role)
            print(f"{agent.login} is now {agent.role}", file=out)
        elif args.command == "disable":
            agent = await service.disable_agent(args.login)
            print(f"disabled agent {agent.login}", file=out)
        elif args.command == "reset-password":
            await service.get_agent_by_login(args.login)
            password = read_password(args.password_stdin)
            await service.reset_password(args.login, password)
            print(f"password of {args.login} changed", file=out)
    finally:
        await db.close_engine(engine)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(run(args, Settings.from_env(), sys.stdout))
    except (CliError, ServiceError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
