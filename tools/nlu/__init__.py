"""The project's own NLU component, named in ``config.yml`` (``shop_classifier``)."""
