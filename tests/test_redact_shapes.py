"""The redactor against the token shapes of a public rule set, and against ordinary code.

tests/redact_shapes.py holds synthetic samples in the shapes gitleaks' rules describe (114 of
them: 82 prefixed or laid-out formats, 32 that need the provider's name beside the value). Each
must be hidden where a change would carry it; ordinary code must pass unchanged.
"""

from __future__ import annotations

import pytest

from reviewq.critics.redact import Redactor
from tests.redact_shapes import shapes

SHAPES = shapes()
PREFIXED = [(name, sample) for name, kind, sample in SHAPES if kind == "prefixed"]
KEYWORD = [(name, kind.split(":", 1)[1], s) for name, kind, s in SHAPES if kind != "prefixed"]


def test_the_table_is_wide() -> None:
    assert len(SHAPES) >= 110 and len({name for name, _, _ in SHAPES}) == len(SHAPES)


@pytest.mark.parametrize(("name", "sample"), PREFIXED, ids=[n for n, _ in PREFIXED])
def test_a_prefixed_shape_is_hidden_in_code_prose_and_a_hunk_row(name: str, sample: str) -> None:
    texts = [
        f'    value = "{sample}"',
        f"Rotated {sample} for the staging box",
        f"    12 +|    fallback = {sample!r},",
        f"deploy/{sample}.json",
    ]
    for text in texts:
        r = Redactor()
        out = r.text(text)
        assert sample not in out, (name, out)
        assert r.restore(out) == text


@pytest.mark.parametrize(("name", "var", "sample"), KEYWORD, ids=[n for n, _, _ in KEYWORD])
def test_a_keyword_shape_is_hidden_beside_its_name(name: str, var: str, sample: str) -> None:
    for text in (f'{var} = "{sample}"', f"    {var.lower()}: {sample}", f"export {var}={sample}"):
        assert sample not in Redactor().lines([text], bare=True)[0], (name, text)
        assert sample not in Redactor().text(text), (name, text)


ORDINARY = '''\
import hashlib
from collections.abc import Mapping


class TokenBucket:
    """Rate limiting: `capacity` tokens, refilled at `rate` per second."""

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity = capacity
        self.tokens = capacity
        self.rate = rate

    def take(self, key: str, password_field: str = "password") -> bool:
        token = self.sign(key)
        secret_name = "DB_PASSWORD"
        api_key = os.environ["OPENAI_API_KEY"]
        password = form.cleaned_data["password"]
        error = "Password must be at least 8 characters long."
        digest = hashlib.sha256(key.encode()).hexdigest()
        cache_key = f"{self.prefix}:{key}"
        return hmac.compare_digest(token, expected)


def keys_of(mapping: Mapping[str, int]) -> list[str]:
    return sorted(mapping, key=lambda k: (len(k), k))
'''


def test_ordinary_code_is_sent_unchanged() -> None:
    lines = ORDINARY.split("\n")
    r = Redactor()
    assert r.lines(lines) == lines
    rendered = "\n".join(f"{i:>6} +|{t}" for i, t in enumerate(lines, 1))
    assert r.outgoing(rendered) == rendered
    assert r.count == 0
