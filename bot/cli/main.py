"""The `jinlin` command line: every command exits non-zero with a one-line reason on bad input.

Each command's work is in a module of its own (serve, db, parse, bot/roster/commands), imported
only when that command runs, so `jinlin parse` does not load the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.core.config import Config, find_config_file, load_config
from storage.errors import JinlinError

Command = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> Config:
    return load_config(find_config_file(args.config, os.environ))


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.cli.serve import serve

    return serve(_config(args), scheduler=not args.no_scheduler)


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.cli.simulate import simulate

    return simulate(
        db_path=Path(args.db),
        host=args.host,
        port=args.port,
        simulator_port=args.simulator_port,
        mode=args.mode,
        reset=args.reset,
    )


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r} (0 to 65535)")
    return int(value)


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.cli.serve import work

    return work(_config(args))


def cmd_import_volunteers(args: argparse.Namespace) -> int:
    from bot.roster.commands import import_volunteers

    return asyncio.run(import_volunteers(_config(args), Path(args.file), sys.stdout))


def cmd_export_requests(args: argparse.Namespace) -> int:
    from bot.roster.commands import export_requests

    try:
        return asyncio.run(export_requests(_config(args), args.format, sys.stdout))
    except BrokenPipeError:
        # The reader went away (`| head`): not an error; silence the final flush too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.cli.db import upgrade

    return upgrade(_config(args))


def cmd_admin_add(args: argparse.Namespace) -> int:
    from bot.cli.admin import add_admin
    from storage.errors import InvalidInput

    if not args.password_stdin:
        raise InvalidInput("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    return asyncio.run(
        add_admin(
            _config(args),
            username=args.username,
            password=password,
            community=args.community,
            street=args.street,
            openid=args.openid,
            update=args.update,
            out=sys.stdout,
        )
    )


def cmd_admin_list(args: argparse.Namespace) -> int:
    from bot.cli.admin import list_admins

    return asyncio.run(list_admins(_config(args), sys.stdout))


def cmd_parse(args: argparse.Namespace) -> int:
    from bot.cli.parse import parse

    return parse(args.file, args.now)


def cmd_broadcast_send(args: argparse.Namespace) -> int:
    from bot.cli.broadcast import send
    from storage.audience import AudienceSpec

    spec = AudienceSpec(args.community, args.compound, args.building, args.role, args.tag)
    return asyncio.run(send(_config(args), spec, args.text, args.at, sys.stdout))


def cmd_broadcast_list(args: argparse.Namespace) -> int:
    from bot.cli.broadcast import list_all

    return asyncio.run(list_all(_config(args), sys.stdout))


def cmd_qrcode(args: argparse.Namespace) -> int:
    from bot.cli.qrcode import qrcode

    return qrcode(_config(args), args.compound, args.community, args.out)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="jinlin", description="近邻 neighbour mutual-aid server")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--config", help="config file (default: $JINLIN_CONFIG, ./config.toml)")
        return sub

    serve = with_config(commands.add_parser("serve", help="run the webhook server"))
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="web only: leave follow-ups to a `jinlin worker`",
    )
    serve.set_defaults(run=cmd_serve)

    worker = with_config(
        commands.add_parser("worker", help="run follow-ups and outbound delivery only")
    )
    worker.set_defaults(run=cmd_worker)

    sim = commands.add_parser(
        "simulate", help="the demo: Jinlin and a local WeChat simulator, no config needed"
    )
    sim.add_argument("--reset", action="store_true", help="start over with fresh demo data")
    sim.add_argument("--port", type=_port, default=8080, help="Jinlin's port (default 8080)")
    sim.add_argument(
        "--simulator-port", type=_port, help="the simulator's port (default: Jinlin's + 1)"
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sim.add_argument(
        "--mode",
        choices=("plain", "compat", "safe"),
        default="plain",
        help="message encryption the simulator uses (default plain)",
    )
    sim.add_argument("--db", default="jinlin-demo.db", help="the demo database file")
    sim.set_defaults(run=cmd_simulate)

    parse = commands.add_parser("parse", help="understand JSON-lines messages (shared/spec/nlp.md)")
    parse.add_argument("--now", help="local time relative times resolve against (default: now)")
    parse.add_argument("file", nargs="?", help="JSON lines {id, text} (default: standard input)")
    parse.set_defaults(run=cmd_parse)

    imports = commands.add_parser("import", help="import data")
    import_what = imports.add_subparsers(dest="import_command", required=True, metavar="WHAT")
    volunteers = with_config(
        import_what.add_parser("volunteers", help="volunteers from a CSV file (product.md)")
    )
    volunteers.add_argument("file", metavar="FILE.csv")
    volunteers.set_defaults(run=cmd_import_volunteers)

    exports = commands.add_parser("export", help="export data")
    export_what = exports.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    requests = with_config(export_what.add_parser("requests", help="one row per request"))
    requests.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    requests.set_defaults(run=cmd_export_requests)

    broadcast = commands.add_parser("broadcast", help="notices to residents (群发)")
    broadcast_do = broadcast.add_subparsers(dest="broadcast_command", required=True, metavar="DO")
    send = with_config(broadcast_do.add_parser("send", help="send a notice now or at a time"))
    send.add_argument("--text", required=True, help="the notice")
    send.add_argument("--community", help="only this community")
    send.add_argument("--compound", help="only this compound")
    send.add_argument("--building", help="only this building (with --compound)")
    send.add_argument("--role", choices=("resident", "volunteer", "all"), default="all")
    send.add_argument("--tag", help="only followers under this WeChat user tag")
    send.add_argument(
        "--at", help='local time to send, "2026-12-01 08:00" or "08:00" (default: now)'
    )
    send.set_defaults(run=cmd_broadcast_send)
    listing = with_config(broadcast_do.add_parser("list", help="notices with their progress"))
    listing.set_defaults(run=cmd_broadcast_list)

    qrcode = with_config(
        commands.add_parser("qrcode", help="a compound's QR code as a PNG, for its gate")
    )
    qrcode.add_argument("--compound", required=True, metavar="NAME", help="its name or alias")
    qrcode.add_argument("--community", help="when two communities have a compound of that name")
    qrcode.add_argument("--out", metavar="FILE.png", help="default: qrcode-<compound>.png")
    qrcode.set_defaults(run=cmd_qrcode)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = with_config(db_commands.add_parser("upgrade", help="apply schema migrations"))
    upgrade.set_defaults(run=cmd_db_upgrade)

    admin = commands.add_parser("admin", help="community workers' console accounts")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    add = with_config(admin_commands.add_parser("add", help="add a console account"))
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password's line")
    scope = add.add_mutually_exclusive_group()
    scope.add_argument("--community", help="scope: this community (default: the whole street)")
    scope.add_argument("--street", help="scope: this whole street (default: [org] street)")
    add.add_argument("--openid", help="the worker's WeChat openid, for chat commands")
    add.add_argument("--update", action="store_true", help="change an existing account")
    add.set_defaults(run=cmd_admin_add)
    listing = with_config(admin_commands.add_parser("list", help="list console accounts"))
    listing.set_defaults(run=cmd_admin_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jinlin` console script."""
    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except JinlinError as exc:
        print(f"jinlin: {exc}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        print(f"jinlin: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
