"""The fengqiao domain: cases, jurisdiction, policy and clocks.

Nothing here knows about HTTP, wire formats, SQL drivers or schedulers; the import
contracts in ``pyproject.toml`` (checked by ``tests/test_architecture.py``) keep it so.
"""
