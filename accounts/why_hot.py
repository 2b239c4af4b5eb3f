"""The one-line "why hot" of an account, from its top engagement activities (pure, no ORM).

Input is what the engagement score keeps (EngagementScore.top_activities: activity_id, kind,
channel, points, highest points first), enriched by the caller with the seniority of each top
activity's contact and the number of activities of each kind in the last 7 days:

    why_hot(top, seniority_by_activity={17: "vp"}, week_counts={"email_click": 3})
    -> "Webinar attended by a VP, 3 email clicks this week"

One phrase per kind, in the order of the top activities, at most `max_reasons` of them. A kind seen
at least twice this week reads as a count ("3 email clicks this week"); otherwise as the activity,
with the most senior contact behind it ("Webinar attended by a VP").
"""

from collections.abc import Mapping, Sequence

from abm.lib.channels import ActivityKind

# kind -> (one activity, several: "3 <plural> this week")
_PHRASES = {
    ActivityKind.EMAIL_OPEN: ("Email opened", "email opens"),
    ActivityKind.EMAIL_CLICK: ("Email clicked", "email clicks"),
    ActivityKind.EMAIL_REPLY: ("Email reply", "email replies"),
    ActivityKind.WEB_VISIT: ("Website visit", "website visits"),
    ActivityKind.CONTENT_DOWNLOAD: ("Content downloaded", "content downloads"),
    ActivityKind.FORM_FILL: ("Form filled in", "form fills"),
    ActivityKind.AD_CLICK: ("Ad clicked", "ad clicks"),
    ActivityKind.AD_IMPRESSION: ("Ad seen", "ad impressions"),
    ActivityKind.EVENT_ATTENDED: ("Event attended", "events attended"),
    ActivityKind.WEBINAR_ATTENDED: ("Webinar attended", "webinars attended"),
    ActivityKind.MEETING: ("Meeting held", "meetings"),
    ActivityKind.CALL_CONNECTED: ("Call connected", "connected calls"),
    ActivityKind.INTENT_SIGNAL: ("Intent signal", "intent signals"),
}
# Most senior first; "other" and unknown contacts add nothing worth saying.
_SENIORITY = {
    "c_level": "a C-level exec",
    "vp": "a VP",
    "director": "a director",
    "manager": "a manager",
}
_SENIORITY_RANK = {key: rank for rank, key in enumerate(_SENIORITY)}


def why_hot(
    top_activities: Sequence[Mapping],
    *,
    seniority_by_activity: Mapping[int, str | None] | None = None,
    week_counts: Mapping[str, int] | None = None,
    max_reasons: int = 2,
) -> str:
    """A short sentence naming what makes the account hot; "" when nothing does."""
    seniority_by_activity = seniority_by_activity or {}
    week_counts = week_counts or {}
    kinds: list[str] = []
    senior: dict[str, str] = {}
    for activity in top_activities:
        kind = activity.get("kind")
        if not kind or (activity.get("points") or 0) <= 0:
            continue
        if kind not in kinds:
            kinds.append(kind)
        seniority = seniority_by_activity.get(activity.get("activity_id"))
        if seniority in _SENIORITY and (
            kind not in senior or _SENIORITY_RANK[seniority] < _SENIORITY_RANK[senior[kind]]
        ):
            senior[kind] = seniority
    phrases = [_phrase(kind, week_counts.get(kind, 0), senior.get(kind)) for kind in kinds]
    phrases = phrases[:max_reasons]
    # One sentence: only its first word keeps a capital ("Webinar attended by a VP, 3 email ...").
    return ", ".join([*phrases[:1], *(p[:1].lower() + p[1:] for p in phrases[1:])])


def _phrase(kind: str, this_week: int, seniority: str | None) -> str:
    one, several = _PHRASES.get(kind, (_label(kind), None))
    if this_week >= 2 and several:
        return f"{this_week} {several} this week"
    if seniority:
        return f"{one} by {_SENIORITY[seniority]}"
    return one


def _label(kind: str) -> str:
    try:
        return str(ActivityKind(kind).label)
    except ValueError:
        return kind.replace("_", " ").capitalize()
