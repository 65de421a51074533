"""A training child that notices its parent is gone.

The app starts `shakes-train` in its own session (so Ctrl-C in the terminal reaches only the app),
which also means a SIGKILLed or hung-up app leaves the child running. With --stop-with-parent the
child watches its parent: when it is re-parented (the parent died, however), the child is asked
to stop, which writes a checkpoint, so the run can be resumed later.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

POLL_SECONDS = 0.5


def watch_parent(on_gone: Callable[[], None], poll: float = POLL_SECONDS) -> threading.Thread:
    """Call ``on_gone()`` once, from a daemon thread, when this process's parent changes."""
    parent = os.getppid()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(poll):
            if os.getppid() != parent:
                on_gone()
                return

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
