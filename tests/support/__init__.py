"""What every test layer shares: one world of sample units, actors and times, the stores each
backend test runs on, builders that drive cases, and one helper that serves fengqiao."""
