"""Every colour a chart built in Python uses, by name: the tokens of static/css/app.css (same names,
same values) plus the few chart-only shades. Templates and CSS keep their own CSS variables."""

from abm.lib.channels import Channel

WHITE = "#ffffff"
GRAY_50 = "#f6f7f9"
GRAY_100 = "#eef0f3"
GRAY_300 = "#cdd2da"
GRAY_350 = "#c3c9d3"  # chart-only: between the border and the muted greys
GRAY_400 = "#a3abb8"
GRAY_450 = "#8a93a3"  # chart-only
GRAY_500 = "#737d8e"
GRAY_600 = "#566072"
GRAY_700 = "#3b4456"
GRAY_800 = "#252d3b"
GRAY_900 = "#131926"
NAVY = "#1f2a44"  # chart-only: the marketing outline on the cadence chart
BLUE_300 = "#9db4f5"  # chart-only
BLUE_500 = "#3a63e8"
BLUE_700 = "#2442a8"
GREEN_500 = "#28a263"
GREEN_600 = "#1d7a48"
AMBER_500 = "#d99214"
RED_500 = "#dc3f3f"
RED_600 = "#b42828"
VIOLET_600 = "#6540c9"
SKY_600 = "#1a6d96"
ORANGE_600 = "#b3470d"

# Roles on a chart.
CHART_BACKGROUND = WHITE
CHART_TEXT = GRAY_700
GRID = GRAY_100
AXIS_LINE = GRAY_300
TOOLTIP = GRAY_900
GOOD = GREEN_500
BAD = RED_500

# Series without a colour of their own take these in turn.
SERIES = (BLUE_500, GREEN_500, AMBER_500, VIOLET_600, SKY_600, RED_500, ORANGE_600, GRAY_600)

# One colour per channel for every chart (timelines, dashboards), so a channel reads the same
# everywhere. The Tableau 10 categorical palette plus a light green, so event and webinar (both live
# sessions) share a hue.
CHANNEL_COLOURS = {
    Channel.EMAIL: "#4e79a7",
    Channel.LINKEDIN: "#76b7b2",
    Channel.PAID_SOCIAL: "#b07aa1",
    Channel.DISPLAY: "#ff9da7",
    Channel.DIRECT_MAIL: "#9c755f",
    Channel.EVENT: "#59a14f",
    Channel.WEBINAR: "#8cd17d",
    Channel.PHONE: "#f28e2b",
    Channel.SDR_OUTREACH: "#e15759",
    Channel.CONTENT: "#edc948",
    Channel.WEB_PERSONALISATION: "#bab0ac",
}
