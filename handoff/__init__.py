"""The agent side of the support assistant: queue, assignment, agents, desk page.

Importing this package has no side effects; engines, secrets and tasks are created
by :func:`handoff.app.create_app` / :func:`handoff.app.register_handoff` at start-up.
"""
