"""fengqiao's tests by layer: ``unit/`` (no store), ``integration/`` (every backend), ``e2e/``
(HTTP, served processes, the command line, a browser), ``support/`` (what they share)."""
