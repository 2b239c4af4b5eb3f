"""abm/lib/colours.py: the chart palette keeps the CSS tokens' values, so charts match the pages."""

import re
from pathlib import Path

from abm.lib import colours
from abm.lib.channels import Channel

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "app.css"


def css_tokens() -> dict[str, str]:
    return dict(re.findall(r"--([a-z]+-\d+):\s*(#[0-9a-f]{6});", CSS.read_text()))


def test_every_named_colour_that_is_a_css_token_has_the_token_s_value():
    tokens = css_tokens()
    named = {
        name.lower().replace("_", "-"): value
        for name, value in vars(colours).items()
        if re.fullmatch(r"[A-Z]+_\d+", name)
    }
    shared = named.keys() & tokens.keys()
    assert len(shared) >= 15
    assert {name: named[name] for name in shared} == {name: tokens[name] for name in shared}


def test_every_channel_has_its_own_colour():
    assert set(colours.CHANNEL_COLOURS) == set(Channel)
    assert len(set(colours.CHANNEL_COLOURS.values())) == len(Channel)
