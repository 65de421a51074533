"""shakes-tui --serve: the same app in a browser (textual-serve), looked at by headless Chromium."""

import asyncio
import re
import socket
import subprocess
import sys
import time

import pytest
from shakes_tui.tui.serve import app_command

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
    server = subprocess.Popen([sys.executable, "-m", "shakes_tui.tui",
                               "--serve", "--host", "127.0.0.1", "--port", str(port)],
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
    command = app_command(["--serve", "--runs-dir", "my runs", "--host", "0.0.0.0", "--port=9000", "--data", "t.txt"])
    assert command.endswith("-m shakes_tui.tui --runs-dir 'my runs' --data t.txt")


@pytest.mark.parametrize("argv, message", [(["--port", "70000"], "not a port number"),
                                           (["--port", "x"], "not a port number")])
def test_bad_serving_options_are_one_line(argv, message):
    result = subprocess.run([sys.executable, "-m", "shakes_tui.tui", "--serve", *argv], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_taken_port_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "shakes_tui.tui",
                                 "--serve", "--port", str(port)], capture_output=True,
                                text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and "cannot serve on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
