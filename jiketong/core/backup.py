"""Backup and restore of one installation: the database (SQLite's online backup API, or pg_dump's custom format)
and the media files (contract attachments, import files and their error reports), in one .tar.gz with a manifest
of row counts and a checksum of the audit trail, so a restore proves it brought back what was saved."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

FORMAT = 1


class BackupError(Exception):
    pass


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return str(candidates[-1])


def _pg_args() -> tuple[list[str], dict]:
    db = connection.settings_dict
    args = ["-d", db["NAME"]]
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
    return args, env


def row_counts() -> dict[str, int]:
    """Rows per table of every installed model (what a restore must bring back)."""
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            counts[model._meta.db_table] = model._base_manager.count()
    return dict(sorted(counts.items()))


def audit_checksum() -> str:
    """SHA-256 over the whole audit trail in id order: any lost, added or altered row changes it."""
    from .models import AuditEvent

    digest = hashlib.sha256()
    fields = ("pk", "at", "actor_id", "action", "target_type", "target_id", "customer_id", "before", "after", "note")
    for row in AuditEvent.objects.order_by("pk").values_list(*fields).iterator(chunk_size=5000):
        digest.update(json.dumps(row, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def manifest() -> dict:
    return {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "engine": connection.vendor,
        "rows": row_counts(),
        "audit_sha256": audit_checksum(),
    }


def backup(output_dir: Path) -> Path:
    """Write `jiketong-backup-<time>.tar.gz` into output_dir and return its path. Safe while the system runs:
    SQLite copies a consistent snapshot page by page, pg_dump reads one snapshot."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = output_dir / f"jiketong-backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        if _is_sqlite():
            connection.ensure_connection()
            destination = sqlite3.connect(work_dir / "database.sqlite3")
            with destination:
                connection.connection.backup(destination)
            destination.close()
        else:
            args, env = _pg_args()
            dump = work_dir / "database.dump"
            subprocess.run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(dump), *args], env=env, check=True)
        (work_dir / "manifest.json").write_text(json.dumps(manifest(), ensure_ascii=False, indent=1))
        with tarfile.open(target, "w:gz") as archive:
            for name in sorted(os.listdir(work_dir)):
                archive.add(work_dir / name, arcname=name)
            media = Path(settings.MEDIA_ROOT)
            if media.exists():
                archive.add(media, arcname="media")
    return target


# The tables, views and sequences of the current schema (partitions go with their parent; an extension's own
# objects stay), dropped before a restore recreates them.
DROP_TABLES = """
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.relkind, format('%I.%I', ns.nspname, c.relname) AS name
        FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
        WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT c.relispartition
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
        ORDER BY c.relkind IN ('S') -- tables first: their own sequences go with them
    LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE',
            CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
            ELSE 'TABLE' END, item.name);
    END LOOP;
END $$;
"""


def restore(archive_path: Path) -> dict:
    """Replace the database and media files with the archive's, then compare row counts and the audit checksum
    with the manifest. Returns {"rows_match", "audit_match", "manifest"}; raises BackupError on a bad archive."""
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive_path, "r:gz") as archive:
        work_dir = Path(work)
        archive.extractall(work_dir, filter="data")
        try:
            saved = json.loads((work_dir / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise BackupError(f"{archive_path} is not a Jiketong backup: {exc}") from exc
        if saved.get("engine") != connection.vendor:
            raise BackupError(
                f"the backup is of a {saved.get('engine')} database, this installation runs {connection.vendor}"
            )
        if _is_sqlite():
            source = sqlite3.connect(work_dir / "database.sqlite3")
            connection.ensure_connection()
            with source:
                source.backup(connection.connection)
            source.close()
        else:
            connection.close()
            args, env = _pg_args()
            script = work_dir / "database.sql"
            dump = work_dir / "database.dump"
            subprocess.run([_pg_tool("pg_restore"), "--no-owner", "-f", str(script), str(dump)], env=env, check=True)
            # One transaction drops this schema's tables and runs the dump's SQL: a failure leaves the database as
            # it was. (pg_restore --clean cannot drop the inherited keys of month partitions, decision 0510.)
            subprocess.run(
                [_pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *args,
                 "-c", DROP_TABLES, "-f", str(script)],
                env=env, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        media = Path(settings.MEDIA_ROOT)
        if media.exists():
            shutil.rmtree(media)
        if (work_dir / "media").exists():
            shutil.copytree(work_dir / "media", media)
    now_rows, now_audit = row_counts(), audit_checksum()
    return {
        "rows_match": now_rows == saved["rows"],
        "audit_match": now_audit == saved["audit_sha256"],
        "manifest": saved,
    }
