"""--serve --max-sessions 2 with the real app: three connections on 127.0.0.1, the processes under the server and
their memory before and after. Usage: python bench/serve_cap.py [path of shakes-tui]  (default: beside this python)."""
import asyncio
import socket
import subprocess
import sys
from pathlib import Path
import aiohttp

def tree(pid):
    kids = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split(); kids.setdefault(int(f[1]), []).append(int(stat.parent.name))
        except OSError:
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out

def rss_mb(pids):
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024

def report(label, pid):
    pids = tree(pid)
    print(f"{label}: {len(pids) - 1} processes under the server, RSS of the tree {rss_mb(pids):.0f} MB", flush=True)

async def main():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    server = subprocess.Popen([sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).with_name("shakes-tui")), "--serve", "--host", "127.0.0.1", "--port", str(port), "--max-sessions", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as r:
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.25)
            report("before any session", server.pid)
            sockets = [await http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24") for _ in range(2)]
            async def drain(ws):  # read as a browser does (and so answer the server's heartbeat pings)
                async for _ in ws:
                    pass
            drains = [asyncio.create_task(drain(ws)) for ws in sockets]
            await asyncio.sleep(25)  # each session loads three models
            report("2 sessions open", server.pid)
            async with http.get(f"http://127.0.0.1:{port}/") as r:
                text = await r.text()
                print(f"3rd connection, the page: HTTP {r.status}: {' '.join(text.split())[:200]}")
            try:
                ws = await http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24")
                print("3rd socket: accepted (!)"); await ws.close()
            except aiohttp.WSServerHandshakeError as exc:
                print(f"3rd connection, the socket: HTTP {exc.status}")
            await asyncio.sleep(2)
            report("after the refusals", server.pid)
            for ws in sockets:
                await ws.close()
            await asyncio.sleep(5)
            report("after closing both", server.pid)
    finally:
        server.terminate(); server.wait(10)

if __name__ == "__main__":
    asyncio.run(main())
