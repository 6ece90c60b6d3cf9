"""Read models kept from the event log, exactly once, rebuildable by replay."""
