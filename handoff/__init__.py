"""The agent side of the support assistant: queue, assignment, agents, desk page.

Importing this package has no side effects; engines, secrets and tasks are created
at start-up by :class:`handoff.app.Desk` (run by ``handoff.app.create_app`` or ``bot.app``).
"""
