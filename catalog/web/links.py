"""Links made in a loop: url_for once per table, each row's value put in by str.format.

url_for takes about 10 µs a call; a long table with a few links a row spends more time
there than on the rest of its rendering. A pattern is url_for's own URL with `{}` where the
value goes, so the URL map stays the one definition of every path.
"""

from flask import current_app, has_request_context, request, url_for

# A value every converter the patterns use (int, id, uuid, string) writes as its digits,
# and that no other part of a URL contains.
_MARK = 2_147_000_001


def url_pattern(endpoint: str, name: str, **values) -> str:
    """The URL of `endpoint` with `{}` in place of its argument `name`."""
    return url_for(endpoint, **values, **{name: _MARK}).replace(str(_MARK), "{}", 1)


# URLs built for templates, per app, by (endpoint, its values, the request's script root).
# A URL is a function of those alone in this app (its only url_defaults hook,
# assets.add_version, adds each static file's hash, fixed for the life of the process), so
# one built for one request serves every later one: a page's navigation, scripts and column
# headers ask for the same dozens. Bounded: emptied when full (search terms in the headers'
# URLs make new ones without end).
BUILT_MAX = 4096


def template_url_for(endpoint: str, **values) -> str:
    """url_for for templates, each URL built once. Calls it cannot key safely (outside a
    request, a blueprint-relative endpoint, with _external, _scheme, _anchor or _method, or
    values that are not hashable) go to url_for as they are."""
    if (
        not has_request_context()
        or endpoint.startswith(".")
        or any(name.startswith("_") for name in values)
    ):
        return url_for(endpoint, **values)
    built = current_app.extensions.setdefault("catalog.built_urls", {})
    try:
        key = (endpoint, request.script_root, frozenset(values.items()))
        url = built.get(key)
    except TypeError:  # a list among the values
        return url_for(endpoint, **values)
    if url is None:
        if len(built) >= BUILT_MAX:
            built.clear()
        url = built[key] = url_for(endpoint, **values)
    return url
