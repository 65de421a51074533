"""shakes-tui --serve: the same app in a browser (textual-serve), looked at by headless Chromium."""

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shakes_tui.tui.serve import app_command, is_loopback, make_server, serving_token

from tests.browser import find_browser, open_page

PANES = ("Benvolio", "Mercutio", "Romeo")  # left to right on the Generate tab
DRAW_TIMEOUT = 300.0  # seconds for the page to show the app: the app process imports torch and loads three models


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited with status {server.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


def title_colour(screen: str, name: str) -> tuple[int, int, int] | None:
    """The true colour the app drew a pane's title in, read from the terminal output the page received."""
    match = re.search(r"\x1b\[38;2;(\d+);(\d+);(\d+)[;\d]*m " + name + " ·", screen)
    return tuple(int(v) for v in match.groups()) if match else None


async def look_at(url: str, browser: str) -> tuple[dict, list]:
    """Wait until the page has received all three pane titles, then count each title's colour on screen."""
    async with open_page(browser, url) as page:
        deadline = time.monotonic() + DRAW_TIMEOUT
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            screen = await page.received()
            colours = {name: title_colour(screen, name) for name in PANES}
            if all(colours.values()):
                break
        else:
            pytest.fail(f"the page did not receive the three panes in {DRAW_TIMEOUT:.0f} s")
        counts: list = []
        for _ in range(30):  # the terminal draws on the next animation frames
            await asyncio.sleep(1)
            counts = await page.count_colours(await page.screenshot(), [colours[n] for n in PANES])
            if all(count[i] >= 20 for i, count in enumerate(counts)):
                break
        return colours, counts


def test_the_app_draws_its_three_panes_in_a_browser(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium); CI installs it")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "shakes_tui.tui", "--serve", "--host", "127.0.0.1", "--port",
                               str(port)],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, server, timeout=120)
        colours, counts = asyncio.run(look_at(f"http://127.0.0.1:{port}/", browser))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"pane title colours {colours}; their pixels in the left, middle, right third: {counts}")
    assert len(set(colours.values())) == 3, colours  # three panes, three title colours
    for column, (name, (left, middle, right)) in enumerate(zip(PANES, counts, strict=True)):
        in_column = (left, middle, right)[column]
        # each title's colour is drawn, and drawn in its own third of the page: the panes sit side by side
        assert in_column >= 20 and in_column > 4 * (left + middle + right - in_column), (name, counts)


def test_serving_runs_the_same_app_without_the_serving_options():
    command = app_command(["--serve", "--runs-dir", "my runs", "--host", "0.0.0.0", "--port=9000", "--data", "t.txt",
                           "--max-sessions", "2", "--token", "secret"])
    assert command.endswith("-m shakes_tui.tui --runs-dir 'my runs' --data t.txt")


@pytest.mark.parametrize("argv, message", [(["--port", "70000"], "not a port number"),
                                           (["--port", "x"], "not a port number"),
                                           (["--max-sessions", "0"], "from 1 to 64"),
                                           (["--max-sessions", "99999999999999999999999"], "from 1 to 64")])
def test_bad_serving_options_are_one_line(argv, message):
    result = subprocess.run([sys.executable, "-m", "shakes_tui.tui", "--serve", *argv], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_taken_port_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "shakes_tui.tui", "--serve", "--port", str(port)],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and "cannot serve on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


# ---- how many, and who: the cap on sessions and the token --------------------------------------------------------
STAND_IN = f"{sys.executable} {Path(__file__).parent / 'serve_stand_in.py'}"  # a process per session, lighter
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def until_children(count: int) -> int:
    for _ in range(200):
        if len(children(os.getpid())) == count:
            break
        await asyncio.sleep(0.05)
    return len(children(os.getpid()))


async def serving(max_sessions: int, token: str | None):
    from aiohttp.test_utils import TestClient, TestServer

    server = make_server(STAND_IN, "127.0.0.1", 0, max_sessions, token)
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    return server, client


async def sessions_beyond_the_cap(max_sessions: int) -> dict:
    server, client = await serving(max_sessions, None)
    try:
        before = len(children(os.getpid()))
        sockets = [await client.ws_connect("/ws?width=80&height=24") for _ in range(max_sessions)]
        said = {"started": await until_children(before + max_sessions) - before}
        said["one more socket"] = (await client.get("/ws?width=80&height=24", headers=UPGRADE)).status
        page = await client.get("/")
        said["one more page"], said["page"] = page.status, await page.text()
        said["after refusals"] = len(children(os.getpid())) - before
        for ws in sockets:
            await ws.close()
        said["after closing"] = await until_children(before) - before
        said["page again"] = (await client.get("/")).status
        return said
    finally:
        await client.close()


def test_sessions_beyond_the_cap_are_refused_with_a_page_that_says_so():
    said = asyncio.run(sessions_beyond_the_cap(2))
    assert said["started"] == 2 and said["after refusals"] == 2, said  # one process per session, no more
    assert said["one more socket"] == 503 and said["one more page"] == 503
    assert "all sessions in use" in said["page"] and "--max-sessions 2" in said["page"]
    assert said["after closing"] == 0 and said["page again"] == 200  # a closed session's process is gone


async def token_checks(token: str) -> dict:
    server, client = await serving(2, token)
    before = len(children(os.getpid()))
    try:
        said = {"no token": (await client.get("/")).status, "wrong": (await client.get("/?token=nope")).status,
                "static": (await client.get("/static/js/textual.js")).status,
                "ws without": (await client.get("/ws", headers=UPGRADE)).status}
        page = await client.get(f"/?token={token}")
        said["right"] = page.status
        said["cookie"] = page.cookies[f"shakes-tui-token-{server.port}"].value == token
        ws = await client.ws_connect("/ws?width=80&height=24")  # as the page's script: no token in its URL, a cookie
        said["ws with cookie"] = not ws.closed
        await ws.close()
        await until_children(before)  # its process has ended
        return said
    finally:
        await client.close()


def test_a_token_guards_every_page_but_the_static_files():
    said = asyncio.run(token_checks("s3cret"))
    assert said == {"no token": 403, "wrong": 403, "static": 200, "ws without": 403, "right": 200, "cookie": True,
                    "ws with cookie": True}


@pytest.mark.parametrize("host, token, wanted", [("127.0.0.1", None, None), ("localhost", None, None),
                                                 ("::1", None, None), ("127.0.0.1", "given", "given"),
                                                 ("0.0.0.0", "given", "given")])
def test_a_token_is_wanted_as_given_and_on_loopback_none(host, token, wanted):
    assert serving_token(host, token) == wanted


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "my-machine.local"])
def test_beyond_loopback_a_token_is_made_up(host):
    assert not is_loopback(host)
    first, second = serving_token(host, None), serving_token(host, None)
    assert first and second and first != second and len(first) >= 32
