from decimal import Decimal

from playbooks.cadence import STAGE_TAIL_DAYS, cadence_figure, stage_spans

LABELS = {"email": "Email", "linkedin": "LinkedIn", "phone": "Phone", "event": "Event"}
COLOURS = {"email": "#4e79a7", "linkedin": "#76b7b2", "phone": "#f28e2b", "event": "#59a14f"}
ROLES = {"marketing": "Marketing", "sales": "Sales"}


def step(channel, day, role="marketing", cost=0, subject="Hi"):
    return {
        "channel": channel,
        "day_offset": day,
        "owner_role": role,
        "subject": subject,
        "unit_cost": Decimal(cost),
        "target": "",
    }


STAGES = [
    {
        "name": "Find",
        "exit_label": "Aware",
        "steps": [step("email", 0), step("phone", 10, "sales", 12)],
    },
    {"name": "Nurture", "exit_label": "MQA", "steps": []},
    {
        "name": "Convert",
        "exit_label": "",
        "steps": [step("event", 0, cost="300.5"), step("email", 2)],
    },
]


def test_a_stage_lasts_its_last_step_day_plus_a_week_and_the_next_starts_there():
    spans = stage_spans(STAGES)

    assert STAGE_TAIL_DAYS == 7
    assert [(s.start, s.length, s.end) for s in spans] == [(0, 17, 17), (17, 7, 24), (24, 9, 33)]
    assert [s.steps for s in spans] == [2, 0, 2]
    assert [s.cost_per_account for s in spans] == [Decimal(12), Decimal(0), Decimal("300.5")]
    assert spans[0].channels == ("email", "phone")


def test_steps_sit_at_stage_start_plus_their_day_by_channel_with_one_trace_per_role():
    figure = cadence_figure(
        STAGES, channel_labels=LABELS, channel_colours=COLOURS, role_labels=ROLES
    )

    marketing, sales = figure["data"]
    assert (marketing["name"], marketing["marker"]["symbol"]) == ("Marketing step", "circle")
    assert (sales["name"], sales["marker"]["symbol"]) == ("Sales step", "diamond")
    assert list(zip(marketing["x"], marketing["y"], strict=True)) == [
        (0, "Email"),
        (24, "Event"),
        (26, "Email"),
    ]
    assert marketing["marker"]["color"] == ["#4e79a7", "#59a14f", "#4e79a7"]
    assert (sales["x"], sales["y"], sales["marker"]["color"]) == ([10], ["Phone"], ["#f28e2b"])
    assert "Find +10d · day 10 overall" in sales["text"][0]
    assert "Unit cost: $12.00" in sales["text"][0]


def test_the_layout_bands_each_stage_and_lists_only_used_channels_in_order():
    layout = cadence_figure(
        STAGES, channel_labels=LABELS, channel_colours=COLOURS, role_labels=ROLES
    )["layout"]

    assert layout["yaxis"]["categoryarray"] == ["Email", "Phone", "Event"]
    bands = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert [(b["x0"], b["x1"]) for b in bands] == [(0, 17), (17, 24), (24, 33)]
    assert [a["text"] for a in layout["annotations"]] == [
        "<b>Find</b><br>exits at Aware",
        "<b>Nurture</b><br>exits at MQA",
        "<b>Convert</b>",
    ]
    assert layout["xaxis"]["range"] == [-2, 34]


def test_text_from_users_is_escaped_for_plotly():
    stages = [{"name": "<Find>", "exit_label": "", "steps": [step("email", 0, subject="<b>x</b>")]}]

    figure = cadence_figure(
        stages, channel_labels=LABELS, channel_colours=COLOURS, role_labels=ROLES
    )

    assert "&lt;b&gt;x&lt;/b&gt;" in figure["data"][0]["text"][0]
    assert figure["layout"]["annotations"][0]["text"] == "<b>&lt;Find&gt;</b>"


def test_quotes_reach_plotly_as_quotes_not_as_entities_it_cannot_read():
    # Plotly decodes &amp; &lt; &gt; and numeric entities, not &quot;: the chart showed "&quot;".
    stages = [
        {
            "name": 'The "Q4" push',
            "exit_label": "",
            "steps": [step("email", 0, subject='Rep\'s "intro" & <b>')],
        }
    ]

    figure = cadence_figure(
        stages, channel_labels=LABELS, channel_colours=COLOURS, role_labels=ROLES
    )

    assert figure["layout"]["annotations"][0]["text"] == '<b>The "Q4" push</b>'
    assert figure["data"][0]["text"][0].startswith('<b>Rep\'s "intro" &amp; &lt;b&gt;</b>')


def test_an_empty_playbook_draws_an_empty_chart():
    figure = cadence_figure([], channel_labels=LABELS, channel_colours=COLOURS, role_labels=ROLES)

    assert figure["data"] == []
    assert figure["layout"]["xaxis"]["range"] == [-2, STAGE_TAIL_DAYS + 1]
