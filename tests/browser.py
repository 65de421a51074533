"""Headless Chromium driven over the DevTools protocol, for the --serve test.

It records what the page's websocket receives (the app's screen, as terminal output) and takes
screenshots; the pixels are counted by the page itself (a 2D canvas), so no image library is needed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp  # comes with textual-serve

BROWSERS = ("chromium", "chromium-browser", "google-chrome")

COUNT_COLOURS_JS = """
async (png, colours, tolerance) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const third = image.width / 3;
  const counts = colours.map(() => [0, 0, 0]);  // per colour: pixels in the left, middle, right third
  for (let i = 0; i < pixels.length; i += 4) {
    const x = (i / 4) % image.width;
    colours.forEach(([r, g, b], k) => {
      if (Math.abs(pixels[i] - r) <= tolerance && Math.abs(pixels[i + 1] - g) <= tolerance
          && Math.abs(pixels[i + 2] - b) <= tolerance) counts[k][Math.min(2, Math.floor(x / third))] += 1;
    });
  }
  return counts;
}
"""


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


class Page:
    """One tab of a headless browser; ``frames`` is the text its websockets have received so far."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.next_id, self.frames = ws, 0, []

    async def call(self, method: str, **params) -> dict:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive()).data)
            if message.get("method") == "Network.webSocketFrameReceived":
                self.frames.append(_frame_text(message["params"]["response"]))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    async def received(self) -> str:
        """All the page's websockets have received so far (a round trip first, to collect pending events)."""
        await self.call("Runtime.evaluate", expression="0")
        return "".join(self.frames)

    async def screenshot(self) -> str:
        return (await self.call("Page.captureScreenshot", format="png"))["data"]

    async def count_colours(self, png: str, colours: list[tuple[int, int, int]], tolerance: int = 6) -> list:
        result = await self.call("Runtime.evaluate", awaitPromise=True, returnByValue=True,
                                 expression=f"({COUNT_COLOURS_JS})({json.dumps(png)}, {json.dumps(colours)}, "
                                            f"{tolerance})")
        return result["result"]["value"]


def _frame_text(response: dict) -> str:
    if response["opcode"] == 2:  # binary frames arrive base64-encoded
        return base64.b64decode(response["payloadData"]).decode("utf-8", "replace")
    return response["payloadData"]


@contextlib.asynccontextmanager
async def open_page(browser: str, url: str, size: tuple[int, int] = (1280, 800), timeout: float = 60.0):
    """A headless browser showing url, with its network recorded from the first request."""
    profile = Path(tempfile.mkdtemp(prefix="shakes-chromium-"))
    proc = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--remote-debugging-port=0", f"--user-data-dir={profile}",
                             f"--window-size={size[0]},{size[1]}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = await _devtools_port(profile / "DevToolsActivePort", proc, timeout)
        async with aiohttp.ClientSession() as session:
            targets = await (await session.get(f"http://127.0.0.1:{port}/json/list")).json()
            target = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Network.enable")
                await page.call("Page.enable")
                await page.call("Page.navigate", url=url)
                yield page
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


async def _devtools_port(port_file: Path, proc: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the browser exited with status {proc.returncode} before it was ready")
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(port_file.read_text().split()[0])
        await asyncio.sleep(0.1)
    raise TimeoutError("the browser did not open its DevTools port")
