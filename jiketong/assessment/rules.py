"""Which customer grades a manager's rank (职级) may own (DOMAIN §2: A customers go to outside sales and senior
managers, B/C to inside sales and juniors). The matrix is configurable (RankGrades rows, set on the settings
page by an administrator); a rank without a row keeps the default below; staff without a rank are not limited.

`owner_errors(person, grades)` is what an owner assignment calls (customers' owner change, work's handover):
field errors in the caller's words, empty when the person may own every grade given."""

from django.utils.translation import gettext as _

from jiketong.org.models import Rank

ALL = ["A1", "A2", "B1", "B2", "C", "D"]
DEFAULT_GRADES: dict[str, list[str]] = {
    Rank.SERVICE_REP: ["C", "D"],
    Rank.MANAGER: ["B1", "B2", "C", "D"],
    Rank.INDUSTRY_MANAGER: ["A2", "B1", "B2", "C", "D"],
    Rank.KEY_ACCOUNT_MANAGER: ALL,
    Rank.SENIOR_INDUSTRY_MANAGER: ALL,
    Rank.SENIOR_MANAGER: ALL,
    Rank.PRINCIPAL_MANAGER: ALL,
    Rank.CHIEF_MANAGER: ALL,
}


def matrix() -> dict[str, list[str]]:
    """Rank → grades it may own: the configured rows over the defaults (one query)."""
    from .models import RankGrades

    table = {rank: list(grades) for rank, grades in DEFAULT_GRADES.items()}
    for row in RankGrades.objects.all():
        table[row.rank] = row.grade_list
    return table


def allowed_grades(rank: str, table: dict | None = None) -> list[str] | None:
    """The grades a rank may own; None when the rank is not limited (no rank)."""
    if not rank:
        return None
    return (table or matrix()).get(rank, ALL)


def owner_errors(person, grades, *, field: str = "owner") -> dict[str, list[str]]:
    """{field: [message]} when `person` (a Staff) may not own a customer of one of `grades`; {} otherwise."""
    if person is None:
        return {}
    allowed = allowed_grades(person.rank)
    if allowed is None:
        return {}
    refused = sorted({g for g in grades if g and g not in allowed})
    if not refused:
        return {}
    message = _("%(name)s (%(rank)s) may not own grade %(grades)s customers; the rank may own %(allowed)s.") % {
        "name": person.name,
        "rank": person.get_rank_display(),
        "grades": "、".join(refused),
        "allowed": "、".join(allowed) or "—",
    }
    return {field: [message]}


def check_owner(person, grades, *, field: str = "owner") -> None:
    """Raise a field ValidationError when the person's rank may not own one of the grades."""
    from django.core.exceptions import ValidationError

    errors = owner_errors(person, grades, field=field)
    if errors:
        raise ValidationError(errors)
