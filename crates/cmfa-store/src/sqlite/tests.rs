//! The SQLite store's own unit tests (the shared behaviour is in tests/conformance.rs).

use super::*;

#[test]
fn new_databases_get_16_kib_pages_and_old_ones_keep_theirs() {
    let page_size = |dir: &Path| {
        Connection::open(dir.join("cognito-mfa.sqlite3"))
            .and_then(|c| c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)))
            .unwrap()
    };
    let new = tempfile::tempdir().unwrap();
    drop(SqliteStore::open_dir(new.path(), Synchronous::Normal).unwrap());
    assert_eq!(page_size(new.path()), PAGE_SIZE);

    let old = tempfile::tempdir().unwrap();
    {
        let c = Connection::open(old.path().join("cognito-mfa.sqlite3")).unwrap();
        c.pragma_update(None, "page_size", 4096).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
    }
    drop(SqliteStore::open_dir(old.path(), Synchronous::Normal).unwrap());
    assert_eq!(page_size(old.path()), 4096);
}

#[test]
fn the_writer_sweep_prunes_week_old_outbox_messages_and_expired_refresh_rows() {
    use cmfa_core::outbound::{Channel, OutboundMessage};
    let now = unix_now();
    let conn = users::tests::with_sessions(&[]);
    let message = |who: &str| OutboundMessage {
        pool_id: "p".into(),
        username: who.into(),
        channel: Channel::Email,
        destination: format!("{who}@example.com"),
        subject: None,
        body: "code 123456".into(),
        purpose: "SIGN_UP".into(),
    };
    users::enqueue(&conn, &message("old"), now - 8.0 * 86_400.0).unwrap();
    users::enqueue(&conn, &message("old-given-up"), now - 8.0 * 86_400.0).unwrap();
    users::enqueue(&conn, &message("old-waiting"), now - 8.0 * 86_400.0).unwrap();
    users::enqueue(&conn, &message("recent"), now - 6.0 * 86_400.0).unwrap();
    users::settle_outbound(&conn, 1, Some(now - 8.0 * 86_400.0), now).unwrap();
    users::settle_outbound(&conn, 2, None, cmfa_core::store::NEVER_RETRY).unwrap();
    let refresh = |hash: &str, expires_at: f64| RefreshRecord {
        hash: hash.into(),
        pool_id: "p".into(),
        client_id: "c".into(),
        username_key: "u".into(),
        origin_jti: format!("o-{hash}"),
        auth_time: 0,
        expires_at,
        revoked: false,
    };
    users::put_refresh(&conn, &refresh("expired", now - 1.0)).unwrap();
    users::put_refresh(&conn, &refresh("live", now + 86_400.0)).unwrap();
    assert!(!sweep_at(&conn, now).unwrap(), "under the limits: nothing more to do");
    let outbox: Vec<String> = conn
        .prepare("SELECT username FROM outbox ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        outbox,
        ["old-waiting", "recent"],
        "delivered and given-up week-old messages go"
    );
    assert!(users::get_refresh(&conn, "expired").unwrap().is_none());
    assert!(users::get_refresh(&conn, "live").unwrap().is_some());
}

#[test]
fn the_writer_sweep_deletes_sessions_an_hour_past_expiry_and_keeps_the_rest() {
    let now = unix_now();
    let conn = users::tests::with_sessions(&[("old", now - 7_200.0), ("recent", now - 600.0), ("live", now + 300.0)]);
    assert!(
        !sweep_sessions(&conn).unwrap(),
        "fewer than the limit: nothing more to do"
    );
    assert_eq!(users::tests::left(&conn), ["recent", "live"]);
}

#[test]
fn a_filtered_user_list_keeps_its_compiled_plan_across_values() {
    // Without the planner stability guarantee, STAT4 makes SQLite compile this statement again
    // on every step after its range parameters change.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path(), Synchronous::Normal).unwrap();
    let Readers::Pool(readers) = &store.readers else {
        panic!("a file store has reader connections")
    };
    for reader in readers {
        let conn = reader.lock().unwrap();
        for value in ["a@example.com", "b@example.com", "c@example.com"] {
            let filter = UserFilter {
                attribute: "email".into(),
                value: value.into(),
                prefix: false,
            };
            users::list_users(&conn, "us-east-1_x", Some(&filter), "", 60).unwrap();
        }
        let stmt = conn.prepare_cached(users::FILTERED_USERS_SQL).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }
}
