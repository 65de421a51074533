"""``shakes-tui --serve``: the same app as a web page, served by textual-serve.

Each browser tab that opens the page gets its own ``python -m shakes_tui.tui ...`` process (the same command line,
less the serving options), drawn in the page by textual-serve's terminal; nothing else is a second front end.
Each such process loads three models (about 360 MB), so at most --max-sessions run at once and a page opened
beyond them says so; served beyond this machine (a host that is not loopback) the page wants a token, given as
--token or made up and printed in the URL, as Jupyter does.
"""

from __future__ import annotations

import argparse
import hmac
import html
import ipaddress
import secrets
import shlex
import sys

DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SESSIONS = "127.0.0.1", 8000, 4
MAX_SESSIONS = 64


def add_serve_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("in a browser")
    g.add_argument("--serve", action="store_true", help="serve the app as a web page instead of drawing it here")
    g.add_argument("--host", default=DEFAULT_HOST, help=f"address to serve on (default {DEFAULT_HOST}; "
                   "0.0.0.0 lets other machines in, with a token)")
    g.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    g.add_argument("--max-sessions", type=session_count, default=DEFAULT_SESSIONS,
                   help=f"browser tabs running the app at once, each its own process of about 360 MB "
                        f"(default {DEFAULT_SESSIONS}); a page opened beyond them says so")
    g.add_argument("--token", help="the token the page asks for (default: none on loopback; made up and printed "
                   "in the URL on any other host)")


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def session_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_SESSIONS:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number from 1 to {MAX_SESSIONS}")
    return int(text)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach host (a name other than localhost might be anything)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serving_token(host: str, token: str | None) -> str | None:
    """The token the page wants: the one given; else a new one unless the host is loopback."""
    if token is not None or is_loopback(host):
        return token or None
    return secrets.token_urlsafe(24)


def app_command(argv: list[str]) -> str:
    """The shell command each browser session runs: this app with argv less the serving options."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_serve_options(p)
    _, rest = p.parse_known_args(argv)
    return shlex.join([sys.executable, "-m", "shakes_tui.tui", *rest])


def refusal_page(title: str, words: str) -> str:
    return (f"<!DOCTYPE html><html><head><title>shakes-tui: {html.escape(title)}</title></head>"
            f"<body style='font-family: monospace; background: #0c181f; color: #eee; padding: 2em'>"
            f"<h1>shakes-tui: {html.escape(title)}</h1><p>{html.escape(words)}</p></body></html>")


def make_server(command: str, host: str, port: int, max_sessions: int, token: str | None):
    """textual-serve's server, with a cap on sessions and, when token is set, a token on every page but its
    static files (the page's script and fonts)."""
    from aiohttp import web
    from textual_serve.server import Server  # imported late: only --serve needs the web server

    cookie = f"shakes-tui-token-{port}"

    class ShakesServer(Server):
        sessions = 0  # app processes running now

        def token_ok(self, request: web.Request) -> bool:
            given = request.query.get("token") or request.cookies.get(cookie) or ""
            return token is None or hmac.compare_digest(given.encode(), token.encode())

        def full(self) -> web.Response:
            return web.Response(status=503, content_type="text/html", text=refusal_page(
                "all sessions in use", f"This server runs at most {max_sessions} session(s) at once "
                f"(--max-sessions {max_sessions}), each a process of its own, and all are open. Close one, "
                "then reload this page."))

        @web.middleware
        async def guard(self, request: web.Request, handler):
            if request.path.startswith("/static/") or self.token_ok(request):
                return await handler(request)
            return web.Response(status=403, content_type="text/html", text=refusal_page(
                "token needed", "This server wants its token: open the URL it printed when it started "
                "(it ends in ?token=...)."))

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self.guard)
            return app

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            if self.sessions >= max_sessions:
                return self.full()
            response = await super().handle_index(request)
            if token is not None:  # the page's script opens /ws without the query: the cookie carries it
                response.set_cookie(cookie, token, httponly=True, samesite="Strict")
            return response

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            if self.sessions >= max_sessions:  # checked again here: pages may have been opened together
                return self.full()
            self.sessions += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions -= 1

        async def on_startup(self, app: web.Application) -> None:
            url = self.public_url + (f"/?token={token}" if token else "")
            self.console.print(f"shakes-tui: serving on {url} (at most {max_sessions} sessions)", markup=False,
                               highlight=False)

    return ShakesServer(command, host=host, port=port, title="shakes-tui")


def serve(argv: list[str], host: str, port: int, max_sessions: int = DEFAULT_SESSIONS,
          token: str | None = None) -> None:
    make_server(app_command(argv), host, port, max_sessions, serving_token(host, token)).serve()  # OSError:
    # cannot serve there
