//! One story over the `Store` trait, run against every adapter: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set (each run in a schema of its own). If the variable is set and the
//! database cannot be reached, the PostgreSQL tests fail: they never skip silently.
//!
//! The story takes two handles, `a` and `b`. For SQLite they are one store; for PostgreSQL they
//! are two `PgStore`s on one database, as two server processes would be, so every read through
//! `b` of a write through `a` proves nothing is served from a stale per-process cache.

use cmfa_core::auth::session::{AuthSession, Challenge};
use cmfa_core::auth::tokens::SigningKey;
use cmfa_core::client::{self, AppClient};
use cmfa_core::group::Group;
use cmfa_core::outbound::{Channel, OutboundMessage};
use cmfa_core::pool::{UserPool, rules};
use cmfa_core::store::{AliasKey, OutboxQuery, PoolKeys, RefreshRecord, StepWrite, Store, StoreError, UserFilter};
use cmfa_core::user::User;
use cmfa_store::SqliteStore;
use cmfa_wire::shapes::{CreateUserPoolClientRequest, CreateUserPoolRequest};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

fn pool(id: &str) -> UserPool {
    let req = CreateUserPoolRequest {
        pool_name: format!("name-{id}"),
        ..Default::default()
    };
    rules::create(id.into(), format!("arn:{id}"), 1.0, req).unwrap()
}

fn app_client(pool_id: &str, id: &str) -> AppClient {
    let req = CreateUserPoolClientRequest {
        user_pool_id: pool_id.into(),
        client_name: format!("client-{id}"),
        ..Default::default()
    };
    client::create(id.into(), 1.0, req).unwrap()
}

/// A user, built from its stored JSON form so that fields added later with a serde default
/// need no change here.
fn user(pool_id: &str, username: &str, attrs: &[(&str, &str)], modified: f64) -> User {
    let mut attributes = vec![serde_json::json!({"Name": "sub", "Value": format!("sub-{username}")})];
    attributes.extend(attrs.iter().map(|(n, v)| serde_json::json!({"Name": n, "Value": v})));
    serde_json::from_value(serde_json::json!({
        "pool_id": pool_id,
        "username": username,
        "sub": format!("sub-{username}"),
        "attributes": attributes,
        "enabled": true,
        "status": "CONFIRMED",
        "created": 1.0,
        "modified": modified,
        "password": null,
        "lockout": {"failures": 0, "last_failure": 0.0, "locked_until": 0.0},
        "fresh_from_sign_up": false,
        "version": 1,
    }))
    .expect("a user")
}

fn email(v: &str) -> AliasKey {
    AliasKey {
        kind: "email",
        value: v.into(),
    }
}

fn message(pool_id: &str, username: &str, destination: &str, purpose: &str) -> OutboundMessage {
    OutboundMessage {
        pool_id: pool_id.into(),
        username: username.into(),
        channel: Channel::Email,
        destination: destination.into(),
        subject: Some("Your code".into()),
        body: "Your code is 123456".into(),
        purpose: purpose.into(),
    }
}

fn session(id: &str, pool_id: &str, username: &str) -> AuthSession {
    AuthSession {
        id: id.into(),
        pool_id: pool_id.into(),
        client_id: "c1".into(),
        username: username.into(),
        challenge: Challenge::NewPasswordRequired,
        expires_at: 4_000_000_000.5,
    }
}

fn refresh(hash: &str, pool_id: &str, key: &str, origin: &str) -> RefreshRecord {
    RefreshRecord {
        hash: hash.into(),
        pool_id: pool_id.into(),
        client_id: "c1".into(),
        username_key: key.into(),
        origin_jti: origin.into(),
        auth_time: 1000,
        expires_at: 99999.25,
        revoked: false,
    }
}

/// Two RSA keys, made once per test binary (generation is the slow part).
fn keys() -> &'static (SigningKey, SigningKey) {
    static KEYS: OnceLock<(SigningKey, SigningKey)> = OnceLock::new();
    KEYS.get_or_init(|| (SigningKey::generate(), SigningKey::generate()))
}

const A: &str = "us-east-1_a";
const C: &str = "us-east-1_c";

async fn story(a: &dyn Store, b: &dyn Store) {
    pools(a, b).await;
    clients(a, b).await;
    signing_keys(a, b).await;
    users(a, b).await;
    sign_in(a, b).await;
    tokens(a, b).await;
    groups(a, b).await;
    outbox(a, b).await;
}

async fn pools(store: &dyn Store, other: &dyn Store) {
    assert_eq!(store.get_pool(A).await.unwrap(), None);
    for id in ["us-east-1_c", "us-east-1_a", "us-east-1_b"] {
        store.create_pool(&pool(id)).await.unwrap();
    }
    assert_eq!(other.create_pool(&pool(A)).await, Err(StoreError::Conflict));

    let got = other.get_pool(A).await.unwrap().unwrap();
    assert_eq!(*got, pool(A));

    // A versioned write succeeds once; a second write from the same read loses.
    let mut next = (*got).clone();
    next.version += 1;
    next.config.name = Some("renamed".into());
    store.update_pool(&next).await.unwrap();
    let mut stale = (*got).clone();
    stale.version += 1;
    assert_eq!(other.update_pool(&stale).await, Err(StoreError::Conflict));
    assert_eq!(
        other.get_pool(A).await.unwrap().unwrap().config.name.as_deref(),
        Some("renamed")
    );

    let mut ghost = pool("us-east-1_zz");
    ghost.version = 2;
    assert_eq!(store.update_pool(&ghost).await, Err(StoreError::NotFound));

    let ids = |v: Vec<Arc<UserPool>>| v.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(other.list_pools(None, 2).await.unwrap()),
        ["us-east-1_a", "us-east-1_b"]
    );
    assert_eq!(
        ids(other.list_pools(Some("us-east-1_b"), 2).await.unwrap()),
        ["us-east-1_c"]
    );

    store.delete_pool("us-east-1_b").await.unwrap();
    assert_eq!(other.delete_pool("us-east-1_b").await, Err(StoreError::NotFound));
    assert_eq!(other.get_pool("us-east-1_b").await.unwrap(), None);
}

async fn clients(store: &dyn Store, other: &dyn Store) {
    for (p, id) in [(A, "c2"), (A, "c1"), (C, "c3"), (A, "c4")] {
        store.create_client(&app_client(p, id)).await.unwrap();
    }
    assert_eq!(
        other.create_client(&app_client(C, "c1")).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store.create_client(&app_client("us-east-1_zz", "c9")).await,
        Err(StoreError::NotFound)
    );
    let got = other.get_client("c1").await.unwrap().unwrap();
    assert_eq!(*got, app_client(A, "c1"));
    assert_eq!(other.get_client("c9").await.unwrap(), None);

    let mut next = (*got).clone();
    next.version += 1;
    next.config.client_name = Some("renamed".into());
    other.update_client(&next).await.unwrap();
    let mut stale = (*got).clone();
    stale.version += 1;
    assert_eq!(store.update_client(&stale).await, Err(StoreError::Conflict));
    assert_eq!(*store.get_client("c1").await.unwrap().unwrap(), next);
    let mut ghost = app_client(A, "c9");
    ghost.version = 2;
    assert_eq!(store.update_client(&ghost).await, Err(StoreError::NotFound));

    let ids = |v: Vec<Arc<AppClient>>| v.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(other.list_clients(A, None, 2).await.unwrap()), ["c1", "c2"]);
    assert_eq!(ids(other.list_clients(A, Some("c2"), 2).await.unwrap()), ["c4"]);
    assert_eq!(ids(other.list_clients(C, None, 10).await.unwrap()), ["c3"]);

    store.delete_client("c4").await.unwrap();
    assert_eq!(other.delete_client("c4").await, Err(StoreError::NotFound));
    assert_eq!(other.get_client("c4").await.unwrap(), None);
}

async fn signing_keys(store: &dyn Store, other: &dyn Store) {
    let (k1, k2) = keys();
    let pair = |x: &SigningKey, y: &SigningKey| PoolKeys {
        access: x.clone(),
        id: y.clone(),
    };
    assert!(store.get_signing_keys(A).await.unwrap().is_none());
    assert!(other.get_signing_keys(A).await.unwrap().is_none());
    // The first put wins; a later one gets the keys in force.
    let first = store.put_signing_keys(A, pair(k1, k2)).await.unwrap();
    assert_eq!(
        (first.access.kid.as_str(), first.id.kid.as_str()),
        (k1.kid.as_str(), k2.kid.as_str())
    );
    let second = other.put_signing_keys(A, pair(k2, k1)).await.unwrap();
    assert_eq!(second.access.kid, k1.kid);
    let read = other.get_signing_keys(A).await.unwrap().unwrap();
    assert_eq!(
        (read.access.kid.as_str(), read.id.kid.as_str()),
        (k1.kid.as_str(), k2.kid.as_str())
    );

    // Two racing first sign-ins (on two processes) agree on one pair.
    let (x, y) = tokio::join!(
        store.put_signing_keys(C, pair(k1, k2)),
        other.put_signing_keys(C, pair(k2, k1))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(
        (x.access.kid.as_str(), x.id.kid.as_str()),
        (y.access.kid.as_str(), y.id.kid.as_str())
    );
    assert_eq!(
        store.get_signing_keys(C).await.unwrap().unwrap().access.kid,
        x.access.kid
    );

    assert_eq!(
        store.put_signing_keys("us-east-1_zz", pair(k1, k2)).await.err(),
        Some(StoreError::NotFound)
    );
}

fn usernames(v: &[User]) -> Vec<&str> {
    v.iter().map(|u| u.username.as_str()).collect()
}

async fn users(store: &dyn Store, other: &dyn Store) {
    let alice = user(A, "alice", &[("email", "alice@example.com"), ("name", "Alice")], 1000.0);
    let welcome = message(A, "alice", "alice@example.com", "INVITATION");
    store
        .create_user(&alice, "alice", &[email("alice@example.com")], Some(&welcome))
        .await
        .unwrap();
    let bob = user(
        A,
        "bob",
        &[("email", "bob@example.com"), ("name", "Bob"), ("given_name", "B")],
        1001.0,
    );
    other
        .create_user(&bob, "bob", &[email("bob@example.com")], None)
        .await
        .unwrap();
    let dave = user(A, "dave", &[("name", "Alfred")], 1002.0);
    store.create_user(&dave, "dave", &[], None).await.unwrap();
    let other_pool = user(C, "alice", &[("email", "alice@example.com")], 1003.0);
    store
        .create_user(&other_pool, "alice", &[email("alice@example.com")], None)
        .await
        .unwrap();

    // A taken alias or username fails the whole write: no user, no message.
    let carol = user(A, "carol", &[("email", "alice@example.com")], 1004.0);
    let lost = message(A, "carol", "alice@example.com", "SIGN_UP");
    assert_eq!(
        other
            .create_user(&carol, "carol", &[email("alice@example.com")], Some(&lost))
            .await,
        Err(StoreError::Conflict)
    );
    assert_eq!(store.get_user(A, "carol").await.unwrap(), None);
    assert_eq!(
        store.create_user(&alice, "alice", &[], Some(&lost)).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store
            .create_user(&user("us-east-1_zz", "x", &[], 1.0), "x", &[], None)
            .await,
        Err(StoreError::NotFound)
    );
    let all = OutboxQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(other.list_outbox(&all).await.unwrap().len(), 1);

    assert_eq!(other.get_user(A, "alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(
        other
            .find_alias(A, &email("alice@example.com"))
            .await
            .unwrap()
            .as_deref(),
        Some("alice")
    );
    assert_eq!(other.find_alias(A, &email("nobody@example.com")).await.unwrap(), None);
    assert_eq!(other.count_users(A).await.unwrap(), 3);
    assert_eq!(other.count_users(C).await.unwrap(), 1);

    // A versioned update moves the alias and records its message in the same transaction.
    let mut moved = alice.clone();
    moved.version = 2;
    moved.modified = 1010.0;
    moved.set_attr("email", Some("alice2@example.com".into()));
    let verify = message(A, "alice", "alice2@example.com", "VERIFY_ATTRIBUTE");
    other
        .update_user(&moved, "alice", &[email("alice2@example.com")], Some(&verify))
        .await
        .unwrap();
    assert_eq!(store.find_alias(A, &email("alice@example.com")).await.unwrap(), None);
    assert_eq!(
        store
            .find_alias(A, &email("alice2@example.com"))
            .await
            .unwrap()
            .as_deref(),
        Some("alice")
    );
    let mut stale = alice.clone();
    stale.version = 2;
    assert_eq!(
        store.update_user(&stale, "alice", &[], Some(&lost)).await,
        Err(StoreError::Conflict)
    );
    let mut ghost = user(A, "ghost", &[], 1.0);
    ghost.version = 2;
    assert_eq!(
        store.update_user(&ghost, "ghost", &[], None).await,
        Err(StoreError::NotFound)
    );
    // Taking bob's email fails and changes nothing.
    let mut grab = moved.clone();
    grab.version = 3;
    assert_eq!(
        store
            .update_user(&grab, "alice", &[email("bob@example.com")], Some(&lost))
            .await,
        Err(StoreError::Conflict)
    );
    assert_eq!(other.get_user(A, "alice").await.unwrap(), Some(moved.clone()));
    assert_eq!(other.list_outbox(&all).await.unwrap().len(), 2);

    // ListUsers: key order, pages, filters on one attribute.
    let list = |f: Option<UserFilter>, after: Option<&'static str>, limit| {
        let f = f.clone();
        async move { other.list_users(A, f.as_ref(), after, limit).await.unwrap() }
    };
    let filter = |attribute: &str, value: &str, prefix| {
        Some(UserFilter {
            attribute: attribute.into(),
            value: value.into(),
            prefix,
        })
    };
    assert_eq!(usernames(&list(None, None, 10).await), ["alice", "bob", "dave"]);
    assert_eq!(usernames(&list(None, None, 2).await), ["alice", "bob"]);
    assert_eq!(usernames(&list(None, Some("bob"), 2).await), ["dave"]);
    assert_eq!(
        usernames(&list(filter("email", "alice2@example.com", false), None, 10).await),
        ["alice"]
    );
    assert!(
        list(filter("email", "alice@example.com", false), None, 10)
            .await
            .is_empty()
    );
    assert_eq!(
        usernames(&list(filter("name", "Al", true), None, 10).await),
        ["alice", "dave"]
    );
    assert_eq!(
        usernames(&list(filter("name", "Al", true), Some("alice"), 10).await),
        ["dave"]
    );
    assert_eq!(usernames(&list(filter("name", "Al", true), None, 1).await), ["alice"]);
    assert_eq!(
        usernames(&list(filter("given_name", "B", false), None, 10).await),
        ["bob"]
    );
    assert_eq!(usernames(&list(filter("username", "b", true), None, 10).await), ["bob"]);
    assert_eq!(
        usernames(&list(filter("cognito:user_status", "CONFIRMED", false), None, 10).await),
        ["alice", "bob", "dave"]
    );
    assert_eq!(
        usernames(&list(filter("status", "Enabled", false), None, 10).await),
        ["alice", "bob", "dave"]
    );
    assert!(list(filter("status", "Disabled", false), None, 10).await.is_empty());

    store.delete_user(A, "dave").await.unwrap();
    assert_eq!(other.delete_user(A, "dave").await, Err(StoreError::NotFound));
    assert_eq!(other.get_user(A, "dave").await.unwrap(), None);
    assert!(list(filter("name", "Alf", true), None, 10).await.is_empty());
    assert_eq!(other.count_users(A).await.unwrap(), 2);
}

async fn sign_in(store: &dyn Store, other: &dyn Store) {
    let mut alice = store.get_user(A, "alice").await.unwrap().unwrap();
    store.put_session(&session("s1", A, "alice")).await.unwrap();
    assert_eq!(
        other.put_session(&session("s1", A, "alice")).await,
        Err(StoreError::Conflict)
    );
    let (s, used) = other.get_session("s1").await.unwrap().unwrap();
    assert_eq!(
        (s.id.as_str(), s.username.as_str(), s.expires_at, used),
        ("s1", "alice", 4_000_000_000.5, false)
    );
    assert!(matches!(s.challenge, Challenge::NewPasswordRequired));
    assert!(other.get_session("nope").await.unwrap().is_none());

    // A session is answered once, whichever process gets the answer.
    alice.version += 1;
    alice.lockout.failures = 0;
    other
        .finish_sign_in(Some("s1"), &alice, "alice", Some(&refresh("h1", A, "alice", "o1")))
        .await
        .unwrap();
    assert!(store.get_session("s1").await.unwrap().unwrap().1);
    let mut again = alice.clone();
    again.version += 1;
    assert_eq!(
        store
            .finish_sign_in(Some("s1"), &again, "alice", Some(&refresh("h9", A, "alice", "o9")))
            .await,
        Err(StoreError::Conflict)
    );
    // The failed finish left neither the user nor a token behind.
    assert_eq!(other.get_user(A, "alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(other.get_refresh("h9").await.unwrap(), None);

    // Two answers racing on two processes: exactly one wins.
    store.put_session(&session("s2", A, "alice")).await.unwrap();
    let (x, y) = tokio::join!(
        store.finish_sign_in(Some("s2"), &again, "alice", None),
        other.finish_sign_in(Some("s2"), &again, "alice", None)
    );
    assert_eq!(
        [x.clone(), y.clone()].iter().filter(|r| r.is_ok()).count(),
        1,
        "{x:?} {y:?}"
    );
    assert!(x.is_err_and(|e| e == StoreError::Conflict) || y.is_err_and(|e| e == StoreError::Conflict));
    // Without a session, a stale user version still loses.
    assert_eq!(
        store.finish_sign_in(None, &again, "alice", None).await,
        Err(StoreError::Conflict)
    );
    let mut after = again.clone();
    after.version += 1;
    store
        .finish_sign_in(None, &after, "alice", Some(&refresh("h2", A, "alice", "o2")))
        .await
        .unwrap();
    let mut bob = other.get_user(A, "bob").await.unwrap().unwrap();
    bob.version += 1;
    other
        .finish_sign_in(None, &bob, "bob", Some(&refresh("h3", A, "bob", "o3")))
        .await
        .unwrap();
    assert_eq!(
        store
            .finish_sign_in(None, &after, "alice", Some(&refresh("h4", A, "alice", "o4")))
            .await,
        Err(StoreError::Conflict)
    );
}

async fn tokens(store: &dyn Store, other: &dyn Store) {
    assert_eq!(
        other.get_refresh("h1").await.unwrap(),
        Some(refresh("h1", A, "alice", "o1"))
    );
    assert_eq!(other.get_refresh("nope").await.unwrap(), None);
    for o in ["o1", "o2", "o3"] {
        assert!(!other.is_origin_revoked(o).await.unwrap());
    }

    // Revoking one sign-in is seen by every process at once.
    store.revoke_origin(A, "o1").await.unwrap();
    store.revoke_origin(A, "o1").await.unwrap();
    assert!(other.is_origin_revoked("o1").await.unwrap());
    assert!(other.get_refresh("h1").await.unwrap().unwrap().revoked);
    assert!(!other.get_refresh("h2").await.unwrap().unwrap().revoked);

    // GlobalSignOut revokes every sign-in of one user, and no one else's.
    other.revoke_user_tokens(A, "alice").await.unwrap();
    other.revoke_user_tokens(A, "nobody").await.unwrap();
    assert!(store.is_origin_revoked("o2").await.unwrap());
    assert!(store.get_refresh("h2").await.unwrap().unwrap().revoked);
    assert!(!store.is_origin_revoked("o3").await.unwrap());
    assert!(!store.get_refresh("h3").await.unwrap().unwrap().revoked);
}

fn group(pool_id: &str, name: &str, precedence: Option<i32>) -> Group {
    Group {
        pool_id: pool_id.into(),
        name: name.into(),
        description: Some(format!("the {name}")),
        role_arn: None,
        precedence,
        created: 10.5,
        modified: 10.5,
    }
}

fn names(v: &[Group]) -> Vec<&str> {
    v.iter().map(|g| g.name.as_str()).collect()
}

async fn members(store: &dyn Store, pool_id: &str, name: &str) -> Vec<String> {
    let rows = store.list_group_members(pool_id, name, None, 100).await.unwrap();
    rows.into_iter().map(|(k, _)| k).collect()
}

async fn groups_of(store: &dyn Store, pool_id: &str, key: &str) -> Vec<String> {
    store.get_user(pool_id, key).await.unwrap().expect("the user").groups
}

async fn groups(store: &dyn Store, other: &dyn Store) {
    const G: &str = "us-east-1_g";
    assert_eq!(
        store.create_group(&group(G, "admins", None)).await,
        Err(StoreError::NotFound)
    );
    store.create_pool(&pool(G)).await.unwrap();
    for (name, precedence) in [("staff", Some(2)), ("admins", Some(1)), ("zeta", None)] {
        store.create_group(&group(G, name, precedence)).await.unwrap();
    }
    assert_eq!(
        store.create_group(&group(G, "admins", None)).await,
        Err(StoreError::Conflict)
    );
    // Names compare exactly.
    store.create_group(&group(G, "Admins", None)).await.unwrap();
    assert_eq!(
        other.get_group(G, "admins").await.unwrap(),
        Some(group(G, "admins", Some(1)))
    );
    assert_eq!(other.get_group(G, "nobody").await.unwrap(), None);
    assert_eq!(other.count_groups(G).await.unwrap(), 4);

    // Pages in name order (byte order: upper case first).
    let first = other.list_groups(G, None, 2).await.unwrap();
    assert_eq!(names(&first), ["Admins", "admins"]);
    let rest = other.list_groups(G, Some("admins"), 10).await.unwrap();
    assert_eq!(names(&rest), ["staff", "zeta"]);
    store.delete_group(G, "Admins").await.unwrap();

    let mut changed = group(G, "zeta", Some(7));
    changed.role_arn = Some("arn:aws:iam::123456789012:role/z".into());
    changed.modified = 20.25;
    store.update_group(&changed).await.unwrap();
    assert_eq!(other.get_group(G, "zeta").await.unwrap(), Some(changed));
    assert_eq!(
        store.update_group(&group(G, "nobody", None)).await,
        Err(StoreError::NotFound)
    );

    for name in ["u1", "u2", "u3"] {
        store
            .create_user(&user(G, name, &[], 1.0), name, &[], None)
            .await
            .unwrap();
    }
    // A reader caches u1 before its memberships change: the cached copy must follow them.
    assert!(groups_of(store, G, "u1").await.is_empty());
    store.add_to_group(G, "staff", "u1").await.unwrap();
    store.add_to_group(G, "admins", "u1").await.unwrap();
    other.add_to_group(G, "admins", "u1").await.unwrap(); // a member already: nothing changes
    store.add_to_group(G, "admins", "u2").await.unwrap();
    assert_eq!(store.add_to_group(G, "nobody", "u1").await, Err(StoreError::NotFound));
    assert_eq!(
        store.add_to_group(G, "admins", "nobody").await,
        Err(StoreError::NotFound)
    );
    assert_eq!(groups_of(store, G, "u1").await, ["admins", "staff"]);
    assert_eq!(groups_of(other, G, "u1").await, ["admins", "staff"]);
    let u1 = store.get_user(G, "u1").await.unwrap().unwrap();
    assert_eq!(u1.version, 1, "a membership is no write to the user's record");

    // User writes made from a copy read before a membership change leave the memberships alone.
    let mut stale = user(G, "u1", &[("name", "Una")], 2.0);
    stale.version = 2;
    store.update_user(&stale, "u1", &[], None).await.unwrap();
    assert_eq!(groups_of(store, G, "u1").await, ["admins", "staff"]);
    stale.version = 3;
    store.finish_sign_in(None, &stale, "u1", None).await.unwrap();
    assert_eq!(groups_of(store, G, "u1").await, ["admins", "staff"]);
    assert_eq!(groups_of(other, G, "u1").await, ["admins", "staff"]);

    let found = other
        .get_groups(G, &["staff".into(), "admins".into(), "gone".into()])
        .await
        .unwrap();
    assert_eq!(names(&found), ["admins", "staff"]);
    assert!(other.get_groups(G, &[]).await.unwrap().is_empty());

    // Members page in key order, with their records.
    assert_eq!(members(other, G, "admins").await, ["u1", "u2"]);
    let page = other.list_group_members(G, "admins", None, 1).await.unwrap();
    assert_eq!(page[0].0, "u1");
    assert_eq!(page[0].1.attr("name"), Some("Una"));
    assert_eq!(page[0].1.groups, ["admins", "staff"]);
    let page = other.list_group_members(G, "admins", Some("u1"), 1).await.unwrap();
    assert_eq!(page.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["u2"]);

    other.remove_from_group(G, "admins", "u2").await.unwrap();
    other.remove_from_group(G, "admins", "u2").await.unwrap(); // not a member: nothing changes
    assert_eq!(
        store.remove_from_group(G, "admins", "nobody").await,
        Err(StoreError::NotFound)
    );
    assert_eq!(members(store, G, "admins").await, ["u1"]);
    assert!(groups_of(store, G, "u2").await.is_empty());

    // Deleting a group takes it off its members, whichever handle reads them.
    store.delete_group(G, "staff").await.unwrap();
    assert_eq!(groups_of(store, G, "u1").await, ["admins"]);
    assert_eq!(groups_of(other, G, "u1").await, ["admins"]);
    assert_eq!(other.get_group(G, "staff").await.unwrap(), None);
    assert_eq!(store.delete_group(G, "staff").await, Err(StoreError::NotFound));
    // A group made again under an old name starts empty.
    store.create_group(&group(G, "staff", None)).await.unwrap();
    assert!(members(other, G, "staff").await.is_empty());
    assert_eq!(groups_of(other, G, "u1").await, ["admins"]);

    // Deleting a user ends its memberships; a user made again under its name is in no group.
    store.add_to_group(G, "staff", "u3").await.unwrap();
    store.delete_user(G, "u3").await.unwrap();
    assert!(members(other, G, "staff").await.is_empty());
    store
        .create_user(&user(G, "u3", &[], 5.0), "u3", &[], None)
        .await
        .unwrap();
    assert!(groups_of(other, G, "u3").await.is_empty());
    assert!(members(store, G, "staff").await.is_empty());

    // Races between two processes: two memberships of one user both land, and a membership
    // added while its group is deleted never leaves the group's name on the user.
    for round in 0..5 {
        let (x, y) = (format!("x{round}"), format!("y{round}"));
        store.create_group(&group(G, &x, None)).await.unwrap();
        store.create_group(&group(G, &y, None)).await.unwrap();
        let (a, b) = tokio::join!(store.add_to_group(G, &x, "u2"), other.add_to_group(G, &y, "u2"));
        a.unwrap();
        b.unwrap();
        let now = groups_of(other, G, "u2").await;
        assert!(now.contains(&x) && now.contains(&y), "{now:?}");
        store.add_to_group(G, &x, "u3").await.unwrap();
        let (deleted, added) = tokio::join!(store.delete_group(G, &x), other.add_to_group(G, &x, "u1"));
        deleted.unwrap();
        assert!(matches!(added, Ok(()) | Err(StoreError::NotFound)), "{added:?}");
        for (handle, key) in [(store, "u1"), (other, "u1"), (other, "u2"), (store, "u3")] {
            let left = groups_of(handle, G, key).await;
            assert!(!left.contains(&x), "{key}: {left:?}");
        }
        assert!(members(other, G, &x).await.is_empty());
    }

    // Deleting the pool takes its groups and memberships with it.
    store.delete_pool(G).await.unwrap();
    assert_eq!(other.get_group(G, "admins").await.unwrap(), None);
    assert_eq!(other.count_groups(G).await.unwrap(), 0);
    assert!(other.list_groups(G, None, 10).await.unwrap().is_empty());
}

async fn outbox(store: &dyn Store, other: &dyn Store) {
    let q = |pool: Option<&str>, user: Option<&str>, dest: Option<&str>| OutboxQuery {
        pool_id: pool.map(Into::into),
        username: user.map(Into::into),
        destination: dest.map(Into::into),
        limit: 10,
    };
    let all = other.list_outbox(&q(None, None, None)).await.unwrap();
    // Newest first.
    let purposes: Vec<&str> = all.iter().map(|e| e.message.purpose.as_str()).collect();
    assert_eq!(purposes, ["VERIFY_ATTRIBUTE", "INVITATION"]);
    assert!(all[0].id > all[1].id);
    assert_eq!(
        (all[1].created_at, all[1].delivered_at, all[1].attempts),
        (1000.0, None, 0)
    );
    assert_eq!(all[1].message, message(A, "alice", "alice@example.com", "INVITATION"));
    assert_eq!(
        other.list_outbox(&q(Some(A), Some("alice"), None)).await.unwrap().len(),
        2
    );
    assert_eq!(other.list_outbox(&q(Some(C), None, None)).await.unwrap().len(), 0);
    assert_eq!(other.list_outbox(&q(None, Some("bob"), None)).await.unwrap().len(), 0);
    let to = other
        .list_outbox(&q(None, None, Some("alice2@example.com")))
        .await
        .unwrap();
    assert_eq!(to.len(), 1);
    assert_eq!(to[0].message.purpose, "VERIFY_ATTRIBUTE");
    let one = OutboxQuery {
        limit: 1,
        ..q(None, None, None)
    };
    assert_eq!(other.list_outbox(&one).await.unwrap()[0].id, all[0].id);

    // Nothing is due before it was made; then claims are in id order and pushed a minute out.
    assert!(store.claim_outbound(999.0, 10).await.unwrap().is_empty());
    let claimed = store.claim_outbound(1010.0, 10).await.unwrap();
    let ids: Vec<i64> = claimed.iter().map(|e| e.id).collect();
    assert_eq!(ids, [all[1].id, all[0].id]);
    assert!(claimed.iter().all(|e| e.attempts == 0));
    assert!(other.claim_outbound(1010.0, 10).await.unwrap().is_empty());
    // A worker that died leaves its claims to come back a minute later.
    let again = other.claim_outbound(1071.0, 1).await.unwrap();
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, all[1].id, 1));

    // Delivered messages are done; failed ones come back when their retry is due.
    store.settle_outbound(all[1].id, Some(1072.0), 1072.0).await.unwrap();
    other.settle_outbound(all[0].id, None, 2000.0).await.unwrap();
    let listed = store.list_outbox(&q(None, None, None)).await.unwrap();
    assert_eq!(listed[1].delivered_at, Some(1072.0));
    assert_eq!(listed[1].attempts, 2);
    assert_eq!(listed[0].delivered_at, None);
    assert!(store.claim_outbound(1999.0, 10).await.unwrap().is_empty());

    // Workers on two processes never claim one message twice.
    for i in 0..6 {
        let u = user(A, &format!("w{i}"), &[], 3000.0);
        let m = message(A, &format!("w{i}"), &format!("w{i}@example.com"), "SIGN_UP");
        store.create_user(&u, &format!("w{i}"), &[], Some(&m)).await.unwrap();
    }
    let (x, y) = tokio::join!(store.claim_outbound(3000.0, 4), other.claim_outbound(3000.0, 4));
    let (x, y) = (x.unwrap(), y.unwrap());
    let xs: BTreeSet<i64> = x.iter().map(|e| e.id).collect();
    let ys: BTreeSet<i64> = y.iter().map(|e| e.id).collect();
    assert!(xs.is_disjoint(&ys), "{xs:?} {ys:?}");
    let rest: BTreeSet<i64> = store
        .claim_outbound(3000.0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert!(rest.is_disjoint(&xs) && rest.is_disjoint(&ys), "{rest:?}");
    // Six new messages plus the one whose retry was due at 2000, each claimed once.
    assert_eq!(xs.len() + ys.len() + rest.len(), 7);

    // Deleting a pool takes its users, clients, sessions, tokens and keys with it.
    store.delete_pool(A).await.unwrap();
    assert_eq!(other.count_users(A).await.unwrap(), 0);
    assert_eq!(other.get_client("c1").await.unwrap(), None);
    assert!(other.get_session("s1").await.unwrap().is_none());
    assert_eq!(other.get_refresh("h1").await.unwrap(), None);
    assert!(store.get_signing_keys(A).await.unwrap().is_none());
    assert_eq!(other.find_alias(A, &email("alice2@example.com")).await.unwrap(), None);
}

/// Everything one pool holds, made through `store`: a client, keys, a user with an alias, a
/// group membership, a session, a refresh token, a revoked sign-in and an outbox message.
async fn filled_pool(store: &dyn Store, id: &str, tag: &str) {
    let (k1, k2) = keys();
    store.create_pool(&pool(id)).await.unwrap();
    store
        .create_client(&app_client(id, &format!("client-{tag}")))
        .await
        .unwrap();
    store
        .put_signing_keys(
            id,
            PoolKeys {
                access: k1.clone(),
                id: k2.clone(),
            },
        )
        .await
        .unwrap();
    let address = format!("{tag}@example.com");
    let hello = message(id, "user", &address, "SIGN_UP");
    store
        .create_user(
            &user(id, "user", &[("email", &address)], 100.0),
            "user",
            &[email(&address)],
            Some(&hello),
        )
        .await
        .unwrap();
    store.create_group(&group(id, "staff", None)).await.unwrap();
    store.add_to_group(id, "staff", "user").await.unwrap();
    store
        .put_session(&session(&format!("session-{tag}"), id, "user"))
        .await
        .unwrap();
    store
        .write_step(StepWrite {
            refresh: Some(&refresh(&format!("hash-{tag}"), id, "user", &format!("origin-{tag}"))),
            ..StepWrite::default()
        })
        .await
        .unwrap();
    store.revoke_origin(id, &format!("origin-{tag}")).await.unwrap();
}

/// What [`filled_pool`] made, as seen through `store`: all of it, or (`present` false) none.
/// Signing keys are left to the caller: a PostgreSQL process keeps the keys it has read (they
/// never change), so only the process that wiped a pool is sure to forget them.
async fn assert_pool(store: &dyn Store, id: &str, tag: &str, present: bool) {
    let address = format!("{tag}@example.com");
    let outbox = OutboxQuery {
        pool_id: Some(id.into()),
        limit: 10,
        ..Default::default()
    };
    let seen = [
        ("pool", store.get_pool(id).await.unwrap().is_some()),
        (
            "client",
            store.get_client(&format!("client-{tag}")).await.unwrap().is_some(),
        ),
        ("user", store.get_user(id, "user").await.unwrap().is_some()),
        ("alias", store.find_alias(id, &email(&address)).await.unwrap().is_some()),
        ("users", store.count_users(id).await.unwrap() == 1),
        ("group", store.get_group(id, "staff").await.unwrap().is_some()),
        ("groups", store.count_groups(id).await.unwrap() == 1),
        (
            "session",
            store.get_session(&format!("session-{tag}")).await.unwrap().is_some(),
        ),
        (
            "refresh",
            store.get_refresh(&format!("hash-{tag}")).await.unwrap().is_some(),
        ),
        (
            "revocation",
            store.is_origin_revoked(&format!("origin-{tag}")).await.unwrap(),
        ),
        ("outbox", store.list_outbox(&outbox).await.unwrap().len() == 1),
    ];
    for (what, there) in seen {
        assert_eq!(
            there,
            present,
            "{id}: {what} {}",
            if present { "is gone" } else { "is still there" }
        );
    }
}

/// `reset` wipes one pool (and nothing else) or everything, caches included, and a store goes
/// on working after it; writes racing a reset either succeed or fail cleanly.
async fn reset_story(a: &dyn Store, b: &dyn Store) {
    const P: &str = "us-east-1_p";
    const Q: &str = "us-east-1_q";
    filled_pool(a, P, "p").await;
    filled_pool(a, Q, "q").await;
    // Reads through `b` first, so a cache that kept them would show.
    assert_pool(b, P, "p", true).await;
    assert_pool(b, Q, "q", true).await;

    a.reset(Some(P)).await.unwrap();
    assert_pool(b, P, "p", false).await;
    assert_pool(a, P, "p", false).await;
    assert!(a.get_signing_keys(P).await.unwrap().is_none());
    assert_pool(b, Q, "q", true).await;
    assert!(b.get_signing_keys(Q).await.unwrap().is_some());
    a.reset(Some("us-east-1_nothere")).await.unwrap();
    assert_pool(b, Q, "q", true).await;

    // The same ids made again are new: no cached copy of the wiped ones comes back.
    filled_pool(b, P, "p").await;
    assert_eq!(a.get_user(P, "user").await.unwrap().unwrap().groups, ["staff"]);
    a.reset(Some(P)).await.unwrap();
    assert!(b.get_user(P, "user").await.unwrap().is_none());

    b.reset(None).await.unwrap();
    assert_pool(a, Q, "q", false).await;
    assert!(b.get_signing_keys(Q).await.unwrap().is_none());
    assert!(a.list_pools(None, 10).await.unwrap().is_empty());
    let everything = OutboxQuery {
        limit: 10,
        ..Default::default()
    };
    assert!(a.list_outbox(&everything).await.unwrap().is_empty());
    assert!(a.claim_outbound(f64::MAX, 10).await.unwrap().is_empty());

    // Writes racing a full reset succeed, or find their pool gone; none fails otherwise.
    a.create_pool(&pool(P)).await.unwrap();
    let writes = async {
        let mut outcomes = Vec::new();
        for i in 0..40 {
            let name = format!("racer{i}");
            let u = user(P, &name, &[], 200.0);
            let m = message(P, &name, "racer@example.com", "SIGN_UP");
            outcomes.push(a.create_user(&u, &name, &[], Some(&m)).await);
            outcomes.push(a.put_session(&session(&format!("race-{i}"), P, &name)).await);
            tokio::task::yield_now().await;
        }
        outcomes
    };
    let wipe = async {
        tokio::task::yield_now().await;
        b.reset(None).await
    };
    let (outcomes, wiped) = tokio::join!(writes, wipe);
    wiped.unwrap();
    for o in outcomes {
        assert!(matches!(o, Ok(()) | Err(StoreError::NotFound)), "{o:?}");
    }
    b.reset(None).await.unwrap();
    assert!(a.list_pools(None, 10).await.unwrap().is_empty());
    assert!(a.list_outbox(&everything).await.unwrap().is_empty());

    // And the store works as new.
    filled_pool(a, Q, "q").await;
    assert_pool(b, Q, "q", true).await;
}

#[tokio::test]
async fn sqlite_reset_story() {
    let store = SqliteStore::open_in_memory().unwrap();
    reset_story(&store, &store).await;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path(), Default::default()).unwrap();
    reset_story(&store, &store).await;
}

#[tokio::test]
async fn sqlite_in_memory_story() {
    let store = SqliteStore::open_in_memory().unwrap();
    story(&store, &store).await;
}

#[tokio::test]
async fn sqlite_file_story_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open_dir(dir.path(), Default::default()).unwrap();
        story(&store, &store).await;
        // The directory is owned by one process at a time.
        assert!(matches!(
            SqliteStore::open_dir(dir.path(), Default::default()),
            Err(StoreError::Unavailable(_))
        ));
    }
    let store = SqliteStore::open_dir(dir.path(), Default::default()).unwrap();
    reopened(&store).await;
}

/// What the story leaves behind, read by a store opened afresh.
async fn reopened(store: &dyn Store) {
    let c = store.get_pool(C).await.unwrap().unwrap();
    assert_eq!(c.version, 1);
    assert_eq!(store.list_pools(None, 10).await.unwrap().len(), 1);
    assert_eq!(store.get_user(C, "alice").await.unwrap().unwrap().username, "alice");
    assert_eq!(store.get_client("c3").await.unwrap().unwrap().pool_id, C);
    assert!(store.get_signing_keys(C).await.unwrap().is_some());
    assert!(store.is_origin_revoked("o2").await.unwrap());
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use cmfa_store::PgStore;

    /// A fresh schema on `TEST_DATABASE_URL`, and a URL whose connections use it; `None` when the
    /// variable is unset. Panics if it is set and the database does not answer.
    async fn fresh_schema() -> Option<(String, Schema)> {
        let url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| {
                panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e} (unset it to skip these tests)")
            });
        tokio::spawn(conn);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("cmfa_test_{}_{nanos}", std::process::id());
        // A failed run leaves its schema for inspection; those over an hour old are dropped.
        for row in client
            .query(
                "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
                &[&"cmfa_test_"],
            )
            .await
            .expect("list schemas")
        {
            let old: String = row.get(0);
            let made = old.rsplit('_').next().and_then(|t| t.parse::<u128>().ok());
            if made.is_some_and(|t| nanos.saturating_sub(t) > 3_600_000_000_000) {
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {old} CASCADE"))
                    .await;
            }
        }
        client.batch_execute(&format!("CREATE SCHEMA {name}")).await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let scoped = format!("{url}{sep}options=-csearch_path%3D{name}");
        Some((scoped, Schema { client, name }))
    }

    struct Schema {
        client: tokio_postgres::Client,
        name: String,
    }

    impl Schema {
        async fn drop(self) {
            self.client
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn postgres_story_across_two_stores() {
        let Some((url, schema)) = fresh_schema().await else {
            eprintln!("TEST_DATABASE_URL unset: PostgreSQL story skipped");
            return;
        };
        // Two stores on one database, as two server processes; they migrate at the same time.
        let (a, b) = tokio::join!(PgStore::connect(&url), PgStore::connect(&url));
        let (a, b) = (a.unwrap(), b.unwrap());
        story(&a, &b).await;
        drop((a, b));
        let again = PgStore::connect(&url).await.unwrap();
        reopened(&again).await;
        let applied: i64 = schema
            .client
            .query_one(&format!("SELECT count(*) FROM {}.schema_migrations", schema.name), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(applied, 2, "0001_initial and 0002_groups");
        schema.drop().await;
    }

    #[tokio::test]
    async fn postgres_reset_story_across_two_stores() {
        let Some((url, schema)) = fresh_schema().await else {
            eprintln!("TEST_DATABASE_URL unset: PostgreSQL reset story skipped");
            return;
        };
        let (a, b) = (
            PgStore::connect(&url).await.unwrap(),
            PgStore::connect(&url).await.unwrap(),
        );
        reset_story(&a, &b).await;
        drop((a, b));
        schema.drop().await;
    }

    #[tokio::test]
    async fn postgres_sessions_an_hour_past_expiry_are_deleted() {
        let Some((url, schema)) = fresh_schema().await else {
            eprintln!("TEST_DATABASE_URL unset: PostgreSQL sweep skipped");
            return;
        };
        let store = PgStore::connect(&url).await.unwrap();
        store.create_pool(&pool("p1")).await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        // Written before this process's first sweep: one expired two hours ago, one ten minutes ago.
        for (id, expires_at) in [("old", now - 7_200.0), ("recent", now - 600.0)] {
            let mut s = session(id, "p1", "alice");
            s.expires_at = expires_at;
            schema
                .client
                .execute(
                    &format!(
                        "INSERT INTO {}.sessions (id, pool_id, expires_at, data) VALUES ($1, 'p1', $2, $3)",
                        schema.name
                    ),
                    &[&id, &expires_at, &serde_json::to_string(&s).unwrap()],
                )
                .await
                .unwrap();
        }
        // The first session stored sweeps.
        store.put_session(&session("fresh", "p1", "alice")).await.unwrap();
        assert!(store.get_session("old").await.unwrap().is_none());
        assert!(store.get_session("recent").await.unwrap().is_some());
        assert!(store.get_session("fresh").await.unwrap().is_some());
        drop(store);
        schema.drop().await;
    }

    #[tokio::test]
    async fn postgres_prunes_week_old_outbox_messages() {
        let Some((url, schema)) = fresh_schema().await else {
            eprintln!("TEST_DATABASE_URL unset: PostgreSQL pruning skipped");
            return;
        };
        let store = PgStore::connect(&url).await.unwrap();
        store.create_pool(&pool("p1")).await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let m = OutboundMessage {
            pool_id: "p1".into(),
            username: "alice".into(),
            channel: Channel::Email,
            destination: "alice@example.com".into(),
            subject: None,
            body: "code".into(),
            purpose: "SIGN_UP".into(),
        };
        for (who, at) in [("old", now - 8.0 * 86_400.0), ("recent", now - 86_400.0)] {
            let mut m = m.clone();
            m.username = who.into();
            schema
                .client
                .execute(
                    &format!(
                        "INSERT INTO {}.outbox (pool_id, username, destination, created_at, delivered_at, next_at, data) \
                         VALUES ('p1', $1, 'a@example.com', $2, $2, $2, $3)",
                        schema.name
                    ),
                    &[&who, &at, &serde_json::to_string(&m).unwrap()],
                )
                .await
                .unwrap();
        }
        // The first session stored sweeps, outbox included.
        store.put_session(&session("fresh", "p1", "alice")).await.unwrap();
        let query = OutboxQuery {
            pool_id: Some("p1".into()),
            limit: 10,
            ..OutboxQuery::default()
        };
        let left: Vec<String> = cmfa_core::store::Outbox::list_outbox(&store, &query)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.message.username)
            .collect();
        assert_eq!(left, ["recent"]);
        drop(store);
        schema.drop().await;
    }

    #[tokio::test]
    async fn postgres_unreachable_is_an_error() {
        // Port 1 answers nothing: connecting fails with Unavailable, and no password is echoed.
        let e = PgStore::connect("postgres://u:s3cret@127.0.0.1:1/db")
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Unavailable(m) if !m.contains("s3cret")),
            "{e:?}"
        );
    }
}
