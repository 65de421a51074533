"""``python -m shakes_tui.tui``: shakes-tui without the installed script (what ``--serve`` runs per browser session)."""

from shakes_tui.tui.cli import main

main()
