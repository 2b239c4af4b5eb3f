import pytest

from goals.templatetags.goal_extras import goal_value


@pytest.mark.parametrize(
    ("value", "metric", "text"),
    [
        (1_250_000, "pipeline_created", "$1,250,000"),
        (0.35, "win_rate", "35.0%"),
        (12, "meetings_held", "12"),
        (None, "revenue_won", "—"),
    ],
)
def test_goal_values_read_in_their_unit(value, metric, text):
    assert goal_value(value, metric) == text
