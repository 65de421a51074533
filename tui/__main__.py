"""``python -m tui``: shakes-tui without the installed script (what ``--serve`` runs per browser session)."""

from tui.cli import main

main()
