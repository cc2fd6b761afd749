"""Generated tests (jiketong/testing_views.py) for staff and the org tree. Staff are scoped by province: Alice
finds her colleagues in Guangdong and not Dave (Zhejiang); the staff pages are administrators', who see everyone.
The org tree is everyone's."""

from jiketong.org.models import OrgUnit, Staff
from jiketong.testing_views import Case, Write

CASES = [
    Case(
        Staff,
        kinds=("staff",),
        find=lambda customer: (customer.owner or Staff.objects.get(user__username="dave")).pk,
        api_list="/api/v1/staff",
        api_detail="/api/v1/staff/{id}",
        probe="zhejiang_customer",  # Alice finds her colleagues in Guangdong, not Dave
    ),
    # The staff pages are administrators', who see everyone.
    Case(
        Staff,
        variant="admin",
        unscoped=lambda: Staff.objects.get(user__username="alice").pk,
        list="org:staff_list",
        detail="org:staff_edit",
        reader="frank",
        edit=Write(
            "org:staff_edit",
            data={"name": "李晓虹"},
            invalid={"org_unit": "0"},
            changed=lambda staff: staff.name == "李晓虹",
        ),
        writer="frank",
        not_writer="carol",
    ),
    Case(
        OrgUnit,
        kinds=("unit", "org_unit"),
        unscoped=lambda: OrgUnit.objects.first().pk,
        api_list="/api/v1/org-units",
        api_detail="/api/v1/org-units/{id}",
    ),
]
OTHER_ROUTES = {"org:staff_create"}
