"""The one-line "why hot" sentence, from top activities, seniorities and this week's counts."""

import pytest

from accounts.why_hot import why_hot


def top(*items):
    return [
        {"activity_id": i, "kind": kind, "channel": "x", "points": points}
        for i, (kind, points) in enumerate(items, start=1)
    ]


def test_it_names_the_top_activity_and_a_count_for_this_week():
    sentence = why_hot(
        top(("webinar_attended", 9.0), ("email_click", 3.0)),
        seniority_by_activity={1: "vp"},
        week_counts={"email_click": 3, "webinar_attended": 1},
    )

    assert sentence == "Webinar attended by a VP, 3 email clicks this week"


def test_nothing_hot_is_an_empty_sentence():
    assert why_hot([]) == ""
    assert why_hot(top(("email_open", 0.0))) == ""


def test_one_phrase_per_kind_with_the_most_senior_contact():
    sentence = why_hot(
        top(("meeting", 20.0), ("meeting", 15.0), ("meeting", 10.0)),
        seniority_by_activity={1: "manager", 2: "c_level", 3: "director"},
    )

    assert sentence == "Meeting held by a C-level exec"


@pytest.mark.parametrize(
    ("seniority", "expected"),
    [
        ("c_level", "Form filled in by a C-level exec"),
        ("vp", "Form filled in by a VP"),
        ("director", "Form filled in by a director"),
        ("manager", "Form filled in by a manager"),
        ("other", "Form filled in"),
        (None, "Form filled in"),
    ],
)
def test_seniority_is_said_only_when_it_says_something(seniority, expected):
    assert why_hot(top(("form_fill", 10.0)), seniority_by_activity={1: seniority}) == expected


def test_two_or_more_this_week_read_as_a_count():
    assert why_hot(top(("web_visit", 2.0)), week_counts={"web_visit": 2}) == (
        "2 website visits this week"
    )
    assert why_hot(top(("web_visit", 2.0)), week_counts={"web_visit": 1}) == "Website visit"


def test_it_keeps_to_the_top_reasons_and_one_capital():
    sentence = why_hot(
        top(("event_attended", 15.0), ("content_download", 5.0), ("ad_click", 2.0)),
        seniority_by_activity={2: "director"},
    )

    assert sentence == "Event attended, content downloaded by a director"


def test_an_unknown_kind_still_reads():
    assert why_hot(top(("podcast_listen", 4.0))) == "Podcast listen"
