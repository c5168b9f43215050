"""Reading the list's total as a person does: the page's own, or the one it loads."""

import re


def read_total(client, url: str) -> str:
    """The total `url`'s list shows, as text (tags left out): rendered in the page, or
    fetched from the address the page loads it from (as htmx does on load)."""
    html = client.get(url).get_data(as_text=True)
    span = re.search(r'<span[^>]*data-testid="result-count"[^>]*>', html).group(0)
    deferred = re.search(r'hx-get="([^"]+)"', span)
    if deferred:
        html = client.get(deferred.group(1).replace("&amp;", "&")).get_data(as_text=True)
    found = re.search(r'data-testid="result-count"[^>]*>(.*?)(?:<form|<button|<a |\Z)', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())
