"""The SSE parser: whole events only, ids that persist, comments and retry hints."""

from planenet._events import EventDecoder, WatchState, decode_events


def test_an_event_is_dispatched_at_its_blank_line_with_its_data_lines_joined() -> None:
    decoder = EventDecoder()
    lines = ["event: progress", "id: 12", 'data: {"a":', "data: 1}", ""]
    events = list(decode_events(lines, decoder))
    assert len(events) == 1
    assert (events[0].event, events[0].id, events[0].data) == ("progress", "12", '{"a":\n1}')


def test_comments_retry_hints_and_unknown_fields() -> None:
    lines = [": heartbeat", "", "retry: 1000", "", "event: x", "bogus: 1", "data:no space", ""]
    events = list(decode_events(lines, EventDecoder()))
    assert [(event.event, event.data, event.retry_milliseconds) for event in events] == [
        ("x", "no space", None)
    ]


def test_the_last_id_outlives_events_and_a_nameless_event_is_a_message() -> None:
    lines = ["id: 7", "data: 1", "", "data: 2", "", "id", "data: 3", ""]
    events = list(decode_events(lines, EventDecoder()))
    assert [(event.event, event.id) for event in events] == [
        ("message", "7"),
        ("message", "7"),
        ("message", ""),
    ]


def test_a_half_received_event_is_never_delivered() -> None:
    state = WatchState()
    decoder = state.new_decoder()
    whole = ["event: progress", "id: 3", 'data: {"losses": [1, 2, 3], "offset": 0}', ""]
    for event in decode_events(whole, decoder):
        state.receive(event)
    half = ["event: progress", "id: 5", 'data: {"losses": [4, 5], "offset": 3}']
    assert list(decode_events(half, decoder)) == []  # the connection dropped here
    assert state.last_event_id == "3"
    assert state.request_headers() == {"Last-Event-ID": "3"}
    assert not state.ended


def test_the_outcome_ends_the_watch() -> None:
    state = WatchState("3")
    (event,) = decode_events(
        ["event: succeeded", "id: 3-end", 'data: {"status": "succeeded", "model_id": "m"}', ""],
        state.new_decoder(),
    )
    received = state.receive(event)
    assert received.final
    assert received.model_id == "m"
    assert received.losses == []
    assert state.ended
