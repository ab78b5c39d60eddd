"""The database cluster after converge and the side effect's switchover: Patroni on the external etcd with a
synchronous standby, TLS-only access with scram for the services, one schema per service, WAL archived by pgBackRest."""

import json
import secrets as token

import pytest
from conftest import MEMBERS, leader, members, password, psql

CA = "/etc/postgresql/pki/ca.crt"


def dsn(member: str, user: str, sslmode: str = "verify-full") -> str:
    """Connect by name, which the member's certificate carries (verify-full checks it)."""
    return f"host={member} port=5432 dbname=miniapp user={user} sslmode={sslmode} sslrootcert={CA}"


def test_one_leader_and_a_synchronous_standby(hosts):
    roles = sorted(m["Role"] for m in members(hosts["mol-pg1"]).values())
    assert roles == ["Leader", "Sync Standby"]
    assert all(m["State"] in ("running", "streaming") for m in members(hosts["mol-pg1"]).values())


def test_the_leader_key_is_in_the_external_etcd_under_its_prefix(hosts):
    found = hosts["mol-pg-etcd"].check_output("/usr/local/sbin/etcdctl-local get /miniapp-patroni/miniapp/leader")
    assert found.splitlines() == ["/miniapp-patroni/miniapp/leader", leader(hosts)]


def test_the_side_effect_switched_the_leader_over(hosts):
    history = json.loads(hosts["mol-pg1"].check_output("patronictl -c /etc/patroni/config.yml history --format json"))
    assert len(history) >= 1, "no timeline change: the switchover did not happen"


def test_patroni_reaches_etcd_only_with_its_client_certificate(hosts):
    refused = hosts["mol-pg1"].run(
        "curl -s --max-time 5 --cacert /etc/patroni/etcd/ca.crt -X POST -d '{}' https://mol-pg-etcd:2379/v3/kv/range"
    )
    assert refused.rc != 0 or "certificate" in refused.stdout + refused.stderr


def test_a_commit_on_the_primary_is_on_the_standby(hosts, secrets):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    (standby_name,) = [n for n in MEMBERS if n != leader(hosts)]
    standby = hosts[standby_name]
    marker = token.token_hex(8)
    order = password(secrets, "db-order")
    assert (
        psql(primary, dsn(primary_name, "order"), 'CREATE TABLE IF NOT EXISTS \\"order\\".probe (v text)', order).rc
        == 0
    )
    insert = f"INSERT INTO \\\"order\\\".probe VALUES ('{marker}')"  # noqa: S608 (a hex token of ours)
    assert psql(primary, dsn(primary_name, "order"), insert, order).rc == 0
    # Synchronous: acknowledged means the standby has it; reading it there needs no wait.
    seen = psql(standby, dsn(standby_name, "order"), 'SELECT v FROM \\"order\\".probe', order)
    assert marker in seen.stdout, seen.stderr


def test_replication_is_synchronous(hosts):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    state = primary.check_output(
        "runuser -u postgres -- psql -h /var/run/postgresql -tAc 'SELECT sync_state FROM pg_stat_replication'"
    )
    assert state.split() == ["sync"]


@pytest.mark.parametrize("sslmode", ["disable"])
def test_plaintext_is_refused(hosts, secrets, sslmode):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    result = psql(primary, dsn(primary_name, "order", sslmode), "SELECT 1", password(secrets, "db-order"))
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr or "rejects connection" in result.stderr


def test_a_wrong_password_is_refused(hosts):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    result = psql(primary, dsn(primary_name, "order"), "SELECT 1", "not-the-password")
    assert "password authentication failed" in result.stderr


def test_a_service_may_not_reach_another_services_schema_nor_create_one(hosts, secrets):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    pay = password(secrets, "db-pay")
    foreign = psql(primary, dsn(primary_name, "pay"), 'SELECT count(*) FROM \\"order\\".probe', pay)
    assert "permission denied for schema order" in foreign.stderr
    create = psql(primary, dsn(primary_name, "pay"), "CREATE SCHEMA intruder", pay)
    assert "permission denied for database miniapp" in create.stderr


def test_each_service_owns_its_schema_and_nothing_more(hosts, secrets):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    owners = psql(
        primary,
        dsn(primary_name, "order"),
        "SELECT nspname || '=' || pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname IN ('order', 'pay', 'gateway')",
        password(secrets, "db-order"),
    )
    assert sorted(owners.stdout.split()) == ["gateway=gateway", "order=order", "pay=pay"]
    flags = psql(
        primary,
        dsn(primary_name, "order"),
        "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = 'order'",
        password(secrets, "db-order"),
    )
    assert flags.stdout.strip() == "f"


@pytest.mark.parametrize("name", MEMBERS)
def test_secrets_on_the_hosts_are_private(hosts, name):
    for path in ("/etc/patroni/config.yml", "/etc/patroni/etcd/client.key", "/etc/postgresql/pki/server.key"):
        assert hosts[name].file(path).mode == 0o600, path
    assert not hosts[name].file("/etc/postgresql/pki/ca.key").exists or name == "mol-pg1"


def test_wal_reaches_the_repository_and_a_full_backup_exists(hosts):
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    assert primary.run("runuser -u postgres -- pgbackrest --stanza=miniapp check").rc == 0
    (info,) = json.loads(primary.check_output("runuser -u postgres -- pgbackrest --stanza=miniapp --output=json info"))
    assert info["status"]["message"] == "ok"
    assert [b["type"] for b in info["backup"]][:1] == ["full"]


@pytest.mark.parametrize("name", MEMBERS)
def test_backups_are_scheduled_on_every_member(hosts, name):
    for timer in ("pgbackrest-full.timer", "pgbackrest-diff.timer"):
        assert hosts[name].service(timer).is_enabled
        assert hosts[name].service(timer).is_running


def test_a_replica_backs_up_nothing(hosts):
    (standby_name,) = [n for n in MEMBERS if n != leader(hosts)]
    standby = hosts[standby_name]
    assert "not the primary" in standby.check_output("/usr/local/sbin/pgbackrest-backup diff")


@pytest.mark.parametrize("name", MEMBERS)
def test_the_restore_drill_left_nothing_behind(hosts, name):
    assert not hosts[name].file("/var/lib/postgresql/restore-drill").exists
    assert not hosts[name].service("postgresql-restore-drill").is_running


def test_the_restore_drill_ran_on_the_primary_and_kept_its_markers_live(hosts):
    primary = hosts[leader(hosts)]
    markers = primary.check_output(
        "runuser -u postgres -- psql -h /var/run/postgresql -XqtA -c 'SELECT marker FROM public.restore_drill'"
    )
    assert any(m.endswith("-before") for m in markers.split())
    assert any(m.endswith("-after") for m in markers.split())


def _superuser(host, sql: str) -> str:
    return host.check_output(f"runuser -u postgres -- psql -h /var/run/postgresql -d miniapp -XqtA -c {sql!r}")


def test_the_removed_tenants_rows_were_kept_and_only_theirs_deleted(hosts, secrets):
    """The side effect removed A (archive) and B (export); C's order and line stay."""
    primary_name = leader(hosts)
    primary = hosts[primary_name]
    live = _superuser(primary, 'SELECT DISTINCT tenant FROM "order".line UNION ALL SELECT tenant FROM "order"."order"')
    assert live.split() == ["wx00000000000000c3"] * 2
    archived = _superuser(primary, 'SELECT tenant, order_id FROM "archive_wx00000000000000a1".order__line')
    assert archived.split() == ["wx00000000000000a1|o-1"]
    (exported,) = primary.check_output("ls -d /var/lib/miniapp/tenant-exports/wx00000000000000b2-*").split()
    assert primary.run(f"cd {exported} && sha256sum --strict -c SHA256SUMS").rc == 0
    assert primary.file(exported).mode == 0o700
    assert "wx00000000000000b2" in primary.file(f"{exported}/order.line.csv").content_string
    # The archive is the superuser's: no service may read it.
    denied = psql(primary, dsn(primary_name, "order"), "SELECT 1 FROM archive_wx00000000000000a1.order__line",
                  password(secrets, "db-order"))  # fmt: skip
    assert "permission denied for schema archive_wx00000000000000a1" in denied.stderr
