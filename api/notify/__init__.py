"""Notifications' outer side: the channels (SMTP, a signed webhook, an SMS provider), the
addresses looked up at send time, and the wiring of the dispatcher (``scheduler.dispatch``)."""
