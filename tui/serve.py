"""``shakes-tui --serve``: the same app as a web page, served by textual-serve.

Each browser tab that opens the page gets its own ``python -m shakes_tui.tui ...`` process (the same command line,
less the serving options), drawn in the page by textual-serve's terminal; nothing else is a second front end.
"""

from __future__ import annotations

import argparse
import shlex
import sys

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000


def add_serve_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("in a browser")
    g.add_argument("--serve", action="store_true", help="serve the app as a web page instead of drawing it here")
    g.add_argument("--host", default=DEFAULT_HOST, help=f"address to serve on (default {DEFAULT_HOST}; "
                   "0.0.0.0 lets other machines in, with no password)")
    g.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def app_command(argv: list[str]) -> str:
    """The shell command each browser session runs: this app with argv less --serve, --host and --port."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_serve_options(p)
    _, rest = p.parse_known_args(argv)
    return shlex.join([sys.executable, "-m", "shakes_tui.tui", *rest])


def serve(argv: list[str], host: str, port: int) -> None:
    from textual_serve.server import Server  # imported late: only --serve needs the web server

    Server(app_command(argv), host=host, port=port, title="shakes-tui").serve()  # OSError: cannot serve there
