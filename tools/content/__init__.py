"""Checks of what trainers edit (``make validate``): ``check_data`` (training data, shop.yml,
topics.yml, with file and line) and ``validate`` (Rasa's own validation, quietly)."""
