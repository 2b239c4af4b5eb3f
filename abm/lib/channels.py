"""The marketing vocabulary shared by accounts, playbooks and metrics (DOMAIN.md)."""

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    LINKEDIN = "linkedin", "LinkedIn"
    PAID_SOCIAL = "paid_social", "Paid social"
    DISPLAY = "display", "Display"
    DIRECT_MAIL = "direct_mail", "Direct mail"
    EVENT = "event", "Event"
    WEBINAR = "webinar", "Webinar"
    PHONE = "phone", "Phone"
    SDR_OUTREACH = "sdr_outreach", "SDR outreach"
    CONTENT = "content", "Content"
    WEB_PERSONALISATION = "web_personalisation", "Web personalisation"


class ActivityKind(models.TextChoices):
    EMAIL_SENT = "email_sent", "Email sent"
    EMAIL_OPEN = "email_open", "Email opened"
    EMAIL_CLICK = "email_click", "Email clicked"
    EMAIL_REPLY = "email_reply", "Email replied"
    WEB_VISIT = "web_visit", "Web visit"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    FORM_FILL = "form_fill", "Form fill"
    AD_IMPRESSION = "ad_impression", "Ad impression"
    AD_CLICK = "ad_click", "Ad click"
    EVENT_ATTENDED = "event_attended", "Event attended"
    WEBINAR_ATTENDED = "webinar_attended", "Webinar attended"
    MEETING = "meeting", "Meeting"
    CALL_ATTEMPT = "call_attempt", "Call attempt"
    CALL_CONNECTED = "call_connected", "Call connected"
    INTENT_SIGNAL = "intent_signal", "Intent signal"
    DIRECT_MAIL_SENT = "direct_mail_sent", "Direct mail sent"
    LINKEDIN_MESSAGE = "linkedin_message", "LinkedIn message"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound (our touch)"
    INBOUND = "inbound", "Inbound (their response)"


# Kinds that are always something we did; everything else is a response by the account.
OUTBOUND_KINDS = frozenset(
    {
        ActivityKind.EMAIL_SENT,
        ActivityKind.AD_IMPRESSION,
        ActivityKind.CALL_ATTEMPT,
        ActivityKind.DIRECT_MAIL_SENT,
        ActivityKind.LINKEDIN_MESSAGE,
    }
)
