"""JSON columns' text (storage.engine.json_text): orjson's, or the standard library's for what orjson refuses."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tessera.storage.engine import json_text

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_json_text_reads_back_as_the_value_written(value: object) -> None:
    assert json.loads(json_text(value)) == value


def test_json_text_is_compact_and_keeps_non_ascii_text() -> None:
    assert json_text({"a": [1, "ü"], "b": None}) == '{"a":[1,"ü"],"b":null}'


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    assert json_text({"n": 2**70}) == '{"n": 1180591620717411303424}'
    assert json.loads(json_text({1: "one"})) == {"1": "one"}
