"""Timers that act on deadlines read from the deadlines view."""
