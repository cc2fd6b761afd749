"""Who supervises whom: the nearest supervisors up the tree, shared by every app that escalates or reminds."""

from jiketong import testing
from jiketong.org.models import Role
from jiketong.org.queries import nearest_supervisors, supervisors_for


def test_the_nearest_unit_with_a_supervisor_answers(cast):
    assert nearest_supervisors(cast.org["440106"]) == [cast.carol.pk]  # county has none: the city's
    assert nearest_supervisors(cast.org["330106"]) == [cast.dave.pk]
    assert nearest_supervisors(cast.org["440304"]) == []  # 深圳 and 广东 have none


def test_a_supervisor_in_the_unit_itself_comes_first_and_inactive_ones_do_not_count(cast):
    own = testing.make_staff("county-boss", cast.org["440106"], [Role.SUPERVISOR])
    assert nearest_supervisors(cast.org["440106"]) == [own.pk]
    own.user.is_active = False
    own.user.save(update_fields=["is_active"])
    assert nearest_supervisors(cast.org["440106"]) == [cast.carol.pk]


def test_many_units_are_answered_in_one_query(cast, django_assert_num_queries):
    paths = {cast.org[code].path for code in ("440106", "440104", "330106", "440304")}
    with django_assert_num_queries(1):
        found = supervisors_for(paths)
    assert found[cast.org["440104"].path] == [cast.carol.pk]
    assert found[cast.org["440304"].path] == []
