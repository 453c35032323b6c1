"""bot/identity.py: the shop's signed customer, checked without any server."""

from __future__ import annotations

import hashlib
import hmac

from bot.identity import sign, verify

SECRET = "identity-secret-" + "s" * 40
NOW = 1_800_000_000
DAY = 24 * 3600


def customer(**changes):
    values = {"id": "c-1", "email": "ana@example.com", "name": "Ana", "timestamp": NOW - 60}
    values.update(changes)
    values.setdefault(
        "signature",
        sign(SECRET, values["id"], values["email"], values["name"], values["timestamp"]),
    )
    return values


def test_the_readme_formula_is_the_signature():
    # The README's one-line Python snippet, as a shop would write it.
    id, email, name, ts = "c-1", "ana@example.com", "Ana", NOW
    readme = hmac.new(
        SECRET.encode(), f"{id}\n{email}\n{name}\n{ts}".encode(), hashlib.sha256
    ).hexdigest()
    assert readme == sign(SECRET, id, email, name, ts)


def test_a_valid_signature_gives_the_customer():
    verdict = verify(customer(), SECRET, NOW, DAY)
    assert verdict.problem is None
    assert (verdict.identity.external_id, verdict.identity.name) == ("c-1", "Ana")
    # Upper-case hex is the same signature.
    upper = customer()
    upper["signature"] = upper["signature"].upper()
    assert verify(upper, SECRET, NOW, DAY).identity is not None


def test_expiry_and_clock_skew():
    assert verify(customer(timestamp=NOW - DAY - 1), SECRET, NOW, DAY).problem.endswith(
        "sign again when the page loads"
    )
    assert verify(customer(timestamp=NOW + 200), SECRET, NOW, DAY).identity is not None
    assert "future" in verify(customer(timestamp=NOW + 3600), SECRET, NOW, DAY).problem


def test_a_newline_cannot_shift_values_between_fields():
    # "c-1\nana@..." as the id would sign the same text as id + email: refused outright.
    forged = customer(id="c-1\nana@example.com", email="", name="Ana")
    assert verify(forged, SECRET, NOW, DAY).identity is None


def test_no_secret_no_identity():
    assert verify(customer(), None, NOW, DAY).identity is None
    assert verify(None, SECRET, NOW, DAY).identity is None
    assert verify(customer(timestamp=True), SECRET, NOW, DAY).identity is None
