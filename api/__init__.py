"""The outer layer, split by who runs the code: ``http`` (the API server and the dashboard's
files), ``cli`` (the ``fengqiao`` command), ``demo`` (sample units and a realistic case load)
and ``wiring`` (settings and building the application and its views from them; the composition
root every process starts from). The import contracts in ``pyproject.toml`` keep ``wiring``
below the other three and ``http`` and ``demo`` apart."""
