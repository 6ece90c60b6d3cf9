"""Route handlers: each decodes, calls one thing, encodes."""
