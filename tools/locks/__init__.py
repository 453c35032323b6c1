"""Rasa-side code the scaled stack's endpoints file names: ``redis_lock_store`` (a lock
store whose ticket changes are atomic across Rasa servers)."""
