"""Measuring the assistant: answers on labelled questions (``evaluate``), the frustration
detector (``eval_frustration``), choosing the FAQ thresholds (``tune_thresholds``) and the
test stories (``story_test``)."""
