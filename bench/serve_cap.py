"""--serve --max-sessions 2 with the real app: three connections on 127.0.0.1, the processes under the server and
their memory before and after. Usage: python bench/serve_cap.py [path of shakes-tui]  (default: beside this python).
"""

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

SESSIONS = 2


def process_tree(pid: int) -> list[int]:
    """pid and every process below it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total_kb / 1024


def report(label: str, server: subprocess.Popen) -> None:
    pids = process_tree(server.pid)
    print(f"{label}: {len(pids) - 1} processes under the server, RSS of the tree {rss_mb(pids):.0f} MB", flush=True)


async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read as a browser does (and so answer the server's heartbeat pings, else it closes the session)."""
    async for _ in ws:
        pass


async def main(command: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([command, "--serve", "--host", "127.0.0.1", "--port", str(port),
                               "--max-sessions", str(SESSIONS)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(240):
                try:
                    async with http.get(f"{base}/"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.25)
            report("before any session", server)
            sockets = [await http.ws_connect(f"{base}/ws?width=80&height=24") for _ in range(SESSIONS)]
            readers = [asyncio.create_task(drain(ws)) for ws in sockets]
            await asyncio.sleep(25)  # each session loads three models
            report(f"{SESSIONS} sessions open", server)
            async with http.get(f"{base}/") as page:
                print(f"one more, the page: HTTP {page.status}: {' '.join((await page.text()).split())[:200]}")
            try:
                ws = await http.ws_connect(f"{base}/ws?width=80&height=24")
                print("one more, the socket: accepted")
                await ws.close()
            except aiohttp.WSServerHandshakeError as exc:
                print(f"one more, the socket: HTTP {exc.status}")
            await asyncio.sleep(2)
            report("after the refusals", server)
            for ws in sockets:
                await ws.close()
            await asyncio.gather(*readers)
            await asyncio.sleep(5)
            report("after closing them", server)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).with_name("shakes-tui"))))
