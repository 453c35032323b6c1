"""Custom actions of the support assistant (served by `rasa run actions`).

rasa-sdk imports every module of this package at start-up, so modules here must not do
any I/O at import time.
"""
