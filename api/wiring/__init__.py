"""Start-up: the typed settings read once from the environment, and building the application
and its read models from them (the composition root every process uses)."""
