"""The active filters of the video list as chips ("Channel: Seoul Signal", with a remove
link): each names the URL arguments it stands for, which its link takes out of the list's
URL (the rest stay)."""

from dataclasses import dataclass
from typing import Any

from catalog.models.video import MONETIZATION_FIELDS

TITLES = {
    "q": "Search", "channel": "Channel", "category": "Category", "claim": "Claim status",
    "another_owner": "Claimed by another owner", "privacy": "Privacy",
    "policy": "Effective policy contains", "has_asset": "Has asset id", "short": "Short",
    "live": "Live stream", "administered": "Administered", "hidden": "Hidden",
}  # fmt: skip
HIDDEN = {"yes": "hidden only", "all": "hidden and visible"}
CLAIMS = {"none": "not claimed"}
OPERATORS = {"eq": "=", "gte": "≥", "lte": "≤"}


@dataclass(frozen=True)
class Chip:
    label: str
    keys: tuple[str, ...]

    def without(self, args: dict[str, Any], view_args: dict | None = None) -> dict[str, Any]:
        """`args` without this chip's filter. Within a saved view whose state sets it, the
        argument is sent empty: it then overrides the view's value instead of letting it
        come back."""
        kept = {key: value for key, value in args.items() if key not in self.keys}
        for key in self.keys:
            if view_args and key in view_args:
                kept[key] = ""
        return kept


def _monetization_title(name: str) -> str:
    return name.removesuffix("_enabled").replace("_", " ").capitalize()


def video_chips(state, channel_name: str | None, categories, fields) -> list[Chip]:
    """The chips of a video ListState, in the order of the filter form."""
    chips: list[Chip] = []
    values = {
        "q": state.q,
        "channel": channel_name if state.channel else "",
        "category": dict(categories).get(state.category, "") if state.category else "",
        "claim": CLAIMS.get(state.claim, state.claim),
        "another_owner": state.another_owner, "privacy": state.privacy, "policy": state.policy,
        "has_asset": state.has_asset, "short": state.short, "live": state.live,
        "administered": state.administered,
        "hidden": HIDDEN.get(state.hidden, ""),
    }  # fmt: skip
    for key, value in values.items():
        if value:
            chips.append(Chip(f"{TITLES[key]}: {value}", (key,)))
    for name in MONETIZATION_FIELDS:
        if name in state.monetization:
            title = _monetization_title(name)
            chips.append(Chip(f"{title}: {state.monetization[name]}", (name,)))
    by_id = {f.id: f for f in fields}
    for custom in state.custom:
        field = by_id.get(custom.field_id)
        title = field.name if field else f"Field {custom.field_id}"
        name = f"cf{custom.field_id}"
        if custom.op in OPERATORS:
            chips.append(
                Chip(f"{title} {OPERATORS[custom.op]} {custom.values[0]}", (name, f"{name}_op"))
            )
        elif custom.op in ("yes", "no", "none"):
            word = {"yes": "Yes", "no": "No", "none": "not set"}[custom.op]
            chips.append(Chip(f"{title}: {word}", (name,)))
        elif custom.op == "contains":
            chips.append(Chip(f"{title} contains: {custom.values[0]}", (name,)))
        else:
            chips.append(Chip(f"{title}: {' or '.join(custom.values)}", (name,)))
    return chips


def labels(chips: list[Chip]) -> dict[str, str]:
    """Each argument's chip label, as a view keeps them."""
    return {key: chip.label for chip in chips for key in chip.keys}
