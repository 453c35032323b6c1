"""Developer tools of the support assistant (evaluation and maintenance scripts)."""
