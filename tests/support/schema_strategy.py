"""Hypothesis strategies from a JSON Schema (the subset the finding schemas use).

Supported: `anyOf` (the first option drawn 85% of the time), `type` (object, array, string, number, integer, boolean), `enum`, `const`, `pattern`,
`maxLength`, `minimum`/`maximum`, `maxItems`, `properties` and `required`. Optional properties appear or
not at random, and every object may carry an unknown extra key, as real events do when AWS adds fields.
(hypothesis-jsonschema would do this, but its last release does not run on current Hypothesis.)
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "anyOf" in schema:  # the first option is the realistic one: most cases should get past parsing
        options = [from_schema(option) for option in schema["anyOf"]]
        return st.integers(0, 99).flatmap(lambda n: options[0] if n < 85 else st.one_of(*options[1:]))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=schema.get("maxItems", 5))
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=schema.get("maxLength", 64))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    return st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    base = st.fixed_dictionaries(
        {name: from_schema(sub) for name, sub in properties.items() if name in required},
        optional={name: from_schema(sub) for name, sub in properties.items() if name not in required},
    )
    extra = st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in properties), st.text(max_size=12), max_size=1
    )
    return st.builds(lambda known, unknown: {**unknown, **known}, base, extra)
