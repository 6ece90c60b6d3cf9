"""``fengqiao demo``: the sample jurisdiction, staff and a realistic case load, written through
the application's own commands so every event is one production would write."""
