"""Hypothesis strategies for messages at the boundary: near-valid events and any free text."""

import json

from hypothesis import strategies as st

from cxa import events

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def near_valid(template: events.TicketCreated) -> st.SearchStrategy[bytes]:
    """Valid events with one field replaced by any JSON value (or removed), and any extra fields."""
    base = json.loads(events.serialize(template))
    fields = sorted(base)

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        document = dict(base)
        field = draw(st.sampled_from([*fields, "extra"]))
        if draw(st.booleans()):
            document.pop(field, None)
        else:
            document[field] = draw(
                json_values
                | st.sampled_from(
                    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-03-01T09:30:00"]
                )
            )
        text = json.dumps(document, allow_nan=True, ensure_ascii=draw(st.booleans()))
        return text.encode("utf-8", errors="surrogatepass")

    return build()


def any_text(template: events.TicketCreated) -> st.SearchStrategy[bytes]:
    """Valid tickets but for their free text: any Unicode (NUL, lone surrogates), escaped or not."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        document = json.loads(events.serialize(template))
        for field in ("subject", "body"):
            document[field] = draw(st.text(st.characters(codec=None), max_size=50))
        ensure_ascii = draw(st.booleans())
        return json.dumps(document, ensure_ascii=ensure_ascii).encode("utf-8", errors="surrogatepass")

    return build()
