//! One story over the `Store` trait, run against every adapter (SQLite today).

use cmfa_core::pool::{UserPool, rules};
use cmfa_core::store::{Store, StoreError};
use cmfa_store::SqliteStore;
use cmfa_wire::shapes::CreateUserPoolRequest;

fn pool(id: &str) -> UserPool {
    let req = CreateUserPoolRequest {
        pool_name: format!("name-{id}"),
        ..Default::default()
    };
    rules::create(id.into(), format!("arn:{id}"), 1.0, req).unwrap()
}

async fn story(store: &dyn Store) {
    assert_eq!(store.get_pool("us-east-1_a").await.unwrap(), None);
    for id in ["us-east-1_c", "us-east-1_a", "us-east-1_b"] {
        store.create_pool(&pool(id)).await.unwrap();
    }
    assert_eq!(store.create_pool(&pool("us-east-1_a")).await, Err(StoreError::Conflict));

    let got = store.get_pool("us-east-1_a").await.unwrap().unwrap();
    assert_eq!(*got, pool("us-east-1_a"));

    // A versioned write succeeds once; a second write from the same read loses.
    let mut next = (*got).clone();
    next.version += 1;
    next.config.name = Some("renamed".into());
    store.update_pool(&next).await.unwrap();
    let mut stale = (*got).clone();
    stale.version += 1;
    assert_eq!(store.update_pool(&stale).await, Err(StoreError::Conflict));
    assert_eq!(
        store
            .get_pool("us-east-1_a")
            .await
            .unwrap()
            .unwrap()
            .config
            .name
            .as_deref(),
        Some("renamed")
    );

    let mut ghost = pool("us-east-1_zz");
    ghost.version = 2;
    assert_eq!(store.update_pool(&ghost).await, Err(StoreError::NotFound));

    let ids = |v: Vec<std::sync::Arc<UserPool>>| v.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_pools(None, 2).await.unwrap()),
        ["us-east-1_a", "us-east-1_b"]
    );
    assert_eq!(
        ids(store.list_pools(Some("us-east-1_b"), 2).await.unwrap()),
        ["us-east-1_c"]
    );

    store.delete_pool("us-east-1_b").await.unwrap();
    assert_eq!(store.delete_pool("us-east-1_b").await, Err(StoreError::NotFound));
    assert_eq!(store.get_pool("us-east-1_b").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_in_memory_story() {
    story(&SqliteStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn sqlite_file_story_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open_dir(dir.path(), Default::default()).unwrap();
        story(&store).await;
        // The directory is owned by one process at a time.
        assert!(matches!(
            SqliteStore::open_dir(dir.path(), Default::default()),
            Err(StoreError::Unavailable(_))
        ));
    }
    let store = SqliteStore::open_dir(dir.path(), Default::default()).unwrap();
    let a = store.get_pool("us-east-1_a").await.unwrap().unwrap();
    assert_eq!(a.config.name.as_deref(), Some("renamed"));
    assert_eq!(a.version, 2);
    assert_eq!(store.list_pools(None, 10).await.unwrap().len(), 2);
}
