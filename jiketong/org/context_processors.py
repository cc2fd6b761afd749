from .models import staff_of


def staff(request):
    """The signed-in user's staff record (name, unit, roles) for every page."""
    user = getattr(request, "user", None)
    return {"staff": staff_of(user) if user is not None and user.is_authenticated else None}
