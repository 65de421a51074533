"""Stands in for the app behind textual-serve in the tests: a process per session that runs until the server
sends it textual-serve's quit message (or closes its stdin)."""

import sys

received = b""
while b'"quit"' not in received:
    chunk = sys.stdin.buffer.read1(4096)
    if not chunk:
        break
    received = received[-64:] + chunk
