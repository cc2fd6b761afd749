from .registry import active_entry, nav_items

# The entries base.html lists around the apps' own, in menu order.
BEFORE_APPS = ["home", "customers:list", "catalog:products"]
AFTER_APPS = ["audit:list", "admin:index"]


def navigation(request):
    """The menu entries the user may see, and the one (only one) that the current page belongs to."""
    user = getattr(request, "user", None)
    items = nav_items(user) if user is not None and user.is_authenticated else []
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    entries = BEFORE_APPS + [item.url_name for item in items] + AFTER_APPS
    matches = {item.url_name: item.match for item in items if item.match}
    return {"nav_items": items, "nav_active": active_entry(request.path, view_name, entries, matches)}
