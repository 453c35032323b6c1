"""The small web kit both sides share (``bot`` may import it; it imports neither side).

``errors`` (the one JSON error and the app's catch-all), ``requests`` (JSON bodies, query
ids, bearer tokens, client address), ``tokens`` (the one JWT module, with audience and
type claims), ``security`` (headers and CSP), ``sockets`` (frames, the hello, refusals).
"""
