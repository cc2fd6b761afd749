"""Hooks for the scope matrix (jiketong/tests_scope): one archive import run. A run is its uploader's (and an
administrator's), not customer data, so its id is listed as unscoped: the matrix checks only that nothing leaks."""

from jiketong.customers.models import CustomerImportRun


def populate(world, customers) -> None:
    CustomerImportRun.objects.create(file_name="archive.csv", file_path="/nonexistent/archive.csv")


KINDS: dict = {}
UNSCOPED = {"archive_run": lambda: CustomerImportRun.objects.first().pk}
