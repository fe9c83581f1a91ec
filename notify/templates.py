"""What a notification says: a title and a plain-text body per kind, optionally a channel's own template
(``{"subject": …, "text": …}`` with ``$placeholders`` from the payload, ``string.Template`` so no attribute or
format-spec access), and the HTML part of an email built from the text (escaped)."""

from __future__ import annotations

import html
import json
from string import Template

MAX_TEMPLATE = 4096  # characters per template field

_TITLES = {
    "policy_created": "Policy $policy_id created",
    "policy_expiring": "Policy $policy_id expires within $blocks blocks",
    "policy_settled": "Policy $policy_id settled ($outcome)",
    "policy_voided": "Policy $policy_id voided",
    "pool_coverage_low": "Pool $token/$tier: $metric below $below",
    "proposal_created": "Proposal $proposal_id created",
    "proposal_voting_ending": "Voting on proposal $proposal_id ends within $blocks blocks",
    "proposal_executed": "Proposal $proposal_id executed",
    "price_crossing": "$asset crossed $level ($direction)",
    "operator_alert": "Operator alert",
}


class TemplateError(ValueError):
    pass


def check_template(template: dict | None) -> dict | None:
    if template is None:
        return None
    unknown = set(template) - {"subject", "text"}
    if unknown:
        raise TemplateError(f"template takes only subject and text, not {', '.join(sorted(unknown))}")
    for name, value in template.items():
        if not isinstance(value, str):
            raise TemplateError(f"template {name} must be a string")
        if len(value) > MAX_TEMPLATE:
            raise TemplateError(f"template {name} is longer than {MAX_TEMPLATE} characters")
        try:
            Template(value).substitute({})  # syntax only
        except KeyError:
            pass
        except ValueError as exc:
            raise TemplateError(f"template {name}: {exc}") from None
    return template


def render(payload: dict, purpose: str, template: dict | None = None) -> tuple[str, str]:
    """``(title, plain text)`` of an outbox payload."""
    if purpose == "verification":
        return "Confirm this BitHedge channel", f"Your confirmation code is {payload['code']}."
    data = {k: v for k, v in payload.get("data", {}).items() if not isinstance(v, dict | list)}
    if purpose == "digest":
        items = payload.get("items", [])
        lines = [render(item, "notify", template)[0] for item in items]
        return f"BitHedge daily digest: {len(items)} notifications", "\n".join(f"- {line}" for line in lines)
    kind = payload.get("kind", "")
    title = Template((template or {}).get("subject") or _TITLES.get(kind, kind)).safe_substitute(data)
    if template and template.get("text"):
        text = Template(template["text"]).safe_substitute(data)
    else:
        text = title + "\n\n" + "\n".join(f"{k}: {v}" for k, v in sorted(data.items()))
    if purpose == "correction":
        title = "Correction: " + title
        text = ("A chain reorganization removed the event of an earlier notification "
                f"({payload.get('correction_of')}); it did not happen.\n\n" + text)
    return title, text


def html_part(text: str) -> str:
    return "<html><body><pre>" + html.escape(text) + "</pre></body></html>"


def webhook_body(delivery_id: str, purpose: str, payload: dict, title: str) -> bytes:
    return json.dumps({"delivery_id": delivery_id, "purpose": purpose, "kind": payload.get("kind"),
                       "fact_key": payload.get("fact_key"), "title": title, "data": payload.get("data"),
                       "correction_of": payload.get("correction_of"), "code": payload.get("code"),
                       "items": payload.get("items")}, separators=(",", ":")).encode()
