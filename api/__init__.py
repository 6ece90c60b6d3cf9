"""The outer layer: HTTP API, command line and start-up (the composition root)."""
