"""The small web kit both sides share (``bot`` may import it; it imports nothing of ``bot``
and of ``handoff`` only ``text`` and ``protocol``).

``errors`` (the one JSON error and the app's catch-all), ``requests`` (JSON bodies, query
ids, bearer tokens, client address), ``tokens`` (the one JWT module, with audience and
type claims), ``security`` (headers and CSP), ``sockets`` (frames, the hello, refusals),
``serving`` (how ``python -m bot`` and ``python -m handoff`` run the app).
"""
