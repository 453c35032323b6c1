"""The dev stack: ``python -m tools.stack`` (``make run``) starts the three processes
(``runner``) and keeps them running (``supervisor``)."""
