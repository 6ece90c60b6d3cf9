"""Read models kept from the event log, exactly once, rebuildable by replay.

The views: ``cases.py`` (case summary, escalation queues; read by ``queue.py``, changes streamed
by ``queue_changes.py``), ``deadlines.py`` (every pending clock, what the scheduler sweeps),
``statistics.py`` (facts; the figures are computed by ``stats_queries.py``) and ``history.py``
(each case's timeline). ``engine.py`` applies batches of events with the tracking position in
one transaction, ``follow.py`` keeps them up with the log, ``viewset.py`` holds them together;
``db.py``, ``rows.py`` and ``closure.py`` are their SQL helpers. ``events.py`` is what every view
needs to know about domain events. ``audit_export.py`` and ``audit_trail.py`` write and verify
the hash-chained audit trail.
"""
