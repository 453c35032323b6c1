"""Developer tools, one package per job: ``stack`` (``make run``), ``content`` (``make
validate``), ``evaluation``, ``benchmark``, ``nlu`` (the classifier component ``config.yml``
names) and ``locks`` (the lock store the scaled endpoints name). The action server's entry
point is ``python -m actions``."""
