import datetime as dt

import pytest
from django.utils import timezone

from playbooks.templatetags.playbook_extras import (
    channel_colour,
    merge_tokens,
    overdue_label,
)


def test_merge_fields_show_as_tokens_and_everything_else_is_escaped():
    html = merge_tokens("<b>Hi</b> {{ contact.first_name }} & {{account.name}}")

    assert html == (
        '&lt;b&gt;Hi&lt;/b&gt; <span class="merge-token">contact.first_name</span> &amp; '
        '<span class="merge-token">account.name</span>'
    )


@pytest.mark.parametrize(
    ("days", "text"), [(0, "1 day late"), (1, "1 day late"), (12, "12 days late")]
)
def test_overdue_tasks_say_how_late_they_are(days, text):
    due = timezone.now() - dt.timedelta(days=days)

    assert overdue_label(due) == text


def test_unknown_channels_get_a_neutral_colour():
    assert channel_colour("email") == "#4e79a7"
    assert channel_colour("carrier_pigeon") == "#737d8e"
