from jiketong.core.registry import nav_items
from jiketong.org.models import staff_of


def staff(request):
    user = getattr(request, "user", None)
    return {"staff": staff_of(user) if user is not None and user.is_authenticated else None}


def navigation(request):
    user = getattr(request, "user", None)
    return {"nav_items": nav_items(user) if user is not None and user.is_authenticated else []}
