"""Timers that act on deadlines read from the deadlines view.

``sweep.py`` is one sweep (what is due → the matching command), ``lock.py`` keeps it to one
sweeper per database, ``service.py`` runs it on an APScheduler 3 interval.
"""
