"""The HTTP API: the Litestar app built by ``app.create_app``, its routes, what crosses the
wire (``schemas``), who may do what (``permissions``), the one error map (``errors``),
Idempotency-Key and If-Match handling, and the dashboard's static files (``web``)."""
