"""The fengqiao domain: cases, jurisdiction, policy and clocks.

``case/`` is the case aggregate (its commands in ``case/commands.py``); ``dispute.py`` and
``incident.py`` its two kinds; ``application.py`` the use cases over one event store;
``jurisdiction.py``, ``policy*.py``, ``operations.py`` and ``access.py`` the other aggregates;
``clocks.py``, ``calendar.py``, ``levels.py``, ``status.py`` and ``parties.py`` the values they
share; ``transcodings.py`` how value objects are stored inside events.

Nothing here knows about HTTP, wire formats, SQL drivers or schedulers; the import
contracts in ``pyproject.toml`` (checked by ``tests/unit/test_architecture.py``) keep it so.
"""
