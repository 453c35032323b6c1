"""`rasa data validate --fail-on-warnings`, minus two known false positives of Rasa 3.6.

1. Rasa warns that a response "is not used in any story or rule" when a custom action
   speaks it (the disclosure, the clarification, every FAQ answer): it only looks at
   stories. Here the responses named in the action code count as used.
2. Rasa warns "duplicated intents ... across multiple domain files: faq" when a retrieval
   intent is listed in domain.yml, which its story reader requires: the "other file" is
   the domain Rasa builds itself from data/nlu.yml.

Everything else runs through Rasa's own Validator, and any other warning fails.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from pathlib import Path

from actions.content import PROJECT_ROOT

_RESPONSE_LITERAL = re.compile(r"""["'](utter_[a-z0-9_]+)/?""")
_RETRIEVAL_DUPLICATE = re.compile(
    r"The following duplicated intents have been found across multiple domain files: "
    r"(?P<intents>[\w, ]+)$"
)


def _expected(message: str, retrieval_intents: set[str]) -> bool:
    """Warnings Rasa's own CLI hides, and the retrieval-intent merge (see above)."""
    from rasa.utils.common import EXPECTED_WARNINGS

    if any(re.match(pattern, message) for _, pattern in EXPECTED_WARNINGS):
        return True
    duplicate = _RETRIEVAL_DUPLICATE.match(message)
    return (
        bool(duplicate)
        and {name.strip() for name in duplicate.group("intents").split(",")} <= retrieval_intents
    )


def responses_spoken_by_actions(actions_dir: Path = PROJECT_ROOT / "actions") -> set[str]:
    """Response names written in the action code (`utter_faq/...` counts as utter_faq)."""
    names: set[str] = set()
    for path in actions_dir.glob("*.py"):
        names.update(_RESPONSE_LITERAL.findall(path.read_text(encoding="utf-8")))
    return names


def validate(root: Path = PROJECT_ROOT) -> list[str]:
    """Run Rasa's validation of the project at `root`; return the problems found."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    spoken = responses_spoken_by_actions(root / "actions")

    class ProjectValidator(Validator):
        def _gather_utterance_actions(self) -> set[str]:
            return super()._gather_utterance_actions() - spoken

    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importer = TrainingDataImporter.load_from_config(
            config_path=str(root / "config.yml"),
            domain_path=str(root / "domain.yml"),
            training_data_paths=[str(root / "data")],
        )
        validator = ProjectValidator.from_importer(importer)
        checks = [
            validator.verify_domain_validity(),
            validator.verify_actions_in_stories_rules(),
            validator.verify_forms_in_stories_rules(),
            validator.verify_form_slots(),
            validator.verify_slot_mappings(),
            validator.verify_nlu(ignore_warnings=False),
            validator.verify_story_structure(ignore_warnings=False),
        ]
        validator.warn_if_config_mandatory_keys_are_not_set()
    retrieval_intents = set(importer.get_nlu_data().retrieval_intents)
    for warning in caught:
        message = " ".join(str(warning.message).split())
        if not issubclass(warning.category, UserWarning) or "/rasa/" not in warning.filename:
            continue
        if not _expected(message, retrieval_intents) and message not in problems:
            problems.append(message)
    if not all(checks) and not problems:
        problems.append("Rasa's validation failed (see the messages above).")
    return problems


def main() -> int:
    """Print the problems; exit 1 when there are any."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    problems = validate()
    for problem in problems:
        print(f"rasa data validate: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print("Rasa's data validation passed with no warnings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
