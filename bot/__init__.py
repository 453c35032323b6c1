"""The customer side: the chat widget, its HTTP + websocket API and the bot/person router.

``bot.app.create_app(settings)`` builds the one web process that also serves the agent
desk (``handoff``); ``python -m bot`` runs it. ``bot`` may use ``handoff``, never the
other way round, and neither imports ``actions``.
"""
