"""shakes-tui: the Textual front end. All heavy work happens in engine/, off the event loop."""
