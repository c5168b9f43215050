"""A page's form as a browser would submit it, from the HTML alone: what the user would post
without touching anything. Used to check that posting a form as rendered changes nothing.

It follows the HTML rules that matter for that: a text area's value is its text without
the one newline after the start tag and with line breaks sent as CRLF; a checkbox is sent
only when checked; a single select sends its selected option or, when none is, its first;
a datetime-local value is normalized (seconds left out when zero, as browsers do), or sent
empty when it is not a valid value; disabled controls and buttons are not sent."""

import re
from html.parser import HTMLParser

_LOCAL_TIME = re.compile(r"(\d{4,}-\d\d-\d\d)[T ](\d\d:\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?")


def normalized_local_time(value: str) -> str:
    """A datetime-local value as a browser keeps it: the shortest valid form, or ""."""
    match = _LOCAL_TIME.fullmatch(value)
    if not match:
        return ""
    date, hours_minutes, seconds, fraction = match.groups()
    fraction = (fraction or "").rstrip("0")
    if fraction:
        return f"{date}T{hours_minutes}:{seconds}.{fraction}"
    if seconds and seconds != "00":
        return f"{date}T{hours_minutes}:{seconds}"
    return f"{date}T{hours_minutes}"


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.found:
            if self.form_id is None or a.get("id") == self.form_id:
                self.in_form = self.found = True
            return
        if not self.in_form and not (self.form_id and a.get("form") == self.form_id):
            return
        name = a.get("name")
        disabled = "disabled" in a
        if tag == "input" and name and not disabled:
            kind = (a.get("type") or "text").lower()
            value = a.get("value") or ""
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind in ("submit", "button", "reset", "image", "file"):
                pass
            elif kind == "datetime-local":
                self.fields.append((name, normalized_local_time(value)))
            else:
                self.fields.append((name, value))
        elif tag == "textarea" and name and not disabled:
            self._textarea = (name, [])
        elif tag == "select" and name and not disabled:
            self._select = {"name": name, "options": [], "multiple": "multiple" in a}
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": a.get("value"),
                "selected": "selected" in a,
                "text": [],
            }
            self._select["options"].append(self._option)

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "textarea" and self._textarea:
            name, parts = self._textarea
            text = "".join(parts)
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
            self.fields.append((name, text))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not self._select["multiple"] and not chosen and options:
                chosen = options[:1]
            for option in chosen if self._select["multiple"] else chosen[-1:]:
                value = option["value"]
                if value is None:
                    value = " ".join("".join(option["text"]).split())
                self.fields.append((self._select["name"], value))
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option["text"].append(data)


def submitted_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would send for the form (the first one, or the one
    with id `form_id`, controls outside it that name it with form= included)."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    assert parser.found, f"no form {form_id or ''} on the page"
    return parser.fields
