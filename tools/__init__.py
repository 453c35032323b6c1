"""Developer tools, one package per job: ``stack`` (``make run``), ``content`` (``make
validate``), ``evaluation``, ``benchmark``, and ``nlu`` (the classifier component
``config.yml`` names). The action server's entry point is ``python -m actions``."""
