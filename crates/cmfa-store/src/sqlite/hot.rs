//! Recently used users and sign-in sessions, held decoded in memory.
//!
//! Why: a sign-in reads its user and session again on every step, and in WAL mode every commit
//! by the writer empties the page cache of each reader connection, so under write load a lookup
//! by primary key goes back to the file for every B-tree page and then decodes the JSON row.
//! This process is the only one using the data dir (see the lock in `open_dir`), so it can
//! answer those reads from memory.
//!
//! Coherence: the database stays the only truth; entries are copies. Every write that changes a
//! user or a session updates this cache on the writer thread right after its commit, in commit
//! order (write-through). A reader that missed fills the cache only if no user or session write
//! was applied between the start of its read and its fill (the `epoch`), so a slow reader can
//! never put back a row that a newer commit replaced or deleted. Evicting an entry is always
//! safe: the next read goes to the database. Users are evicted by generation (see [`Users`]), so
//! the ones in use stay cached however many others are written or read.

use cmfa_core::auth::session::AuthSession;
use cmfa_core::user::User;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Upper bound on cached users and on cached sessions (each).
const CAPACITY: usize = 65_536;

#[derive(Default)]
struct Inner {
    /// Bumped by every applied write; see the module notes.
    epoch: u64,
    users: Users,
    /// session id -> (session, used).
    sessions: HashMap<String, (Arc<AuthSession>, bool)>,
}

/// pool id -> user key -> user.
type ByPool = HashMap<String, HashMap<String, Arc<User>>>;

/// The cached users, in two generations: `young` takes every user read or written, and when it
/// holds half the capacity it becomes `old` and the previous `old` is dropped whole. A hit in
/// `old` moves the user back to `young`, so a user in use survives every turn and the ones not
/// used for a generation are the ones that go (an approximation of least-recently-used, with
/// no per-entry bookkeeping). A user is in at most one of the two.
#[derive(Default)]
struct Users {
    young: ByPool,
    young_len: usize,
    old: ByPool,
    old_len: usize,
}

impl Users {
    /// The cached user, if any, and a generation to drop once the lock is released (moving a
    /// user back to `young` may fill it).
    fn get(&mut self, pool_id: &str, key: &str) -> (Option<Arc<User>>, Option<ByPool>) {
        if let Some(u) = self.young.get(pool_id).and_then(|m| m.get(key)) {
            return (Some(u.clone()), None);
        }
        let Some(u) = remove(&mut self.old, &mut self.old_len, pool_id, key) else {
            return (None, None);
        };
        let dropped = self.put_young(key, u.clone());
        (Some(u), dropped)
    }

    /// Caches `user` under `key`; returns a generation to drop once the lock is released.
    #[must_use = "the generation it returns is meant to be dropped outside the lock"]
    fn put(&mut self, key: &str, user: Arc<User>) -> Option<ByPool> {
        remove(&mut self.old, &mut self.old_len, &user.pool_id, key);
        self.put_young(key, user)
    }

    #[must_use = "the generation it returns is meant to be dropped outside the lock"]
    fn put_young(&mut self, key: &str, user: Arc<User>) -> Option<ByPool> {
        let pool = match self.young.get_mut(user.pool_id.as_str()) {
            Some(m) => m,
            None => self.young.entry(user.pool_id.clone()).or_default(),
        };
        if pool.insert(key.to_owned(), user).is_none() {
            self.young_len += 1;
        }
        if self.young_len < CAPACITY / 2 {
            return None;
        }
        self.old_len = std::mem::replace(&mut self.young_len, 0);
        Some(std::mem::replace(&mut self.old, std::mem::take(&mut self.young)))
    }

    fn get_mut(&mut self, pool_id: &str, key: &str) -> Option<&mut Arc<User>> {
        match self.young.get_mut(pool_id).and_then(|m| m.get_mut(key)) {
            Some(u) => Some(u),
            None => self.old.get_mut(pool_id).and_then(|m| m.get_mut(key)),
        }
    }

    fn remove(&mut self, pool_id: &str, key: &str) {
        remove(&mut self.young, &mut self.young_len, pool_id, key);
        remove(&mut self.old, &mut self.old_len, pool_id, key);
    }

    fn remove_pool(&mut self, pool_id: &str) {
        if let Some(m) = self.young.remove(pool_id) {
            self.young_len -= m.len();
        }
        if let Some(m) = self.old.remove(pool_id) {
            self.old_len -= m.len();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.young_len + self.old_len
    }
}

fn remove(map: &mut ByPool, len: &mut usize, pool_id: &str, key: &str) -> Option<Arc<User>> {
    let users = map.get_mut(pool_id)?;
    let u = users.remove(key)?;
    *len -= 1;
    if users.is_empty() {
        map.remove(pool_id);
    }
    Some(u)
}

/// The cache; cheap to share between the store and its writer's post-commit steps.
#[derive(Default, Clone)]
pub(super) struct Hot(Arc<Mutex<Inner>>);

/// Where a reader started, to be handed back to `fill_*` after its query.
#[derive(Clone, Copy)]
pub(super) struct Ticket(u64);

impl Hot {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update below leaves the maps consistent before it can panic.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached user, or a ticket for filling it after reading the database.
    pub(super) fn user(&self, pool_id: &str, key: &str) -> Result<Arc<User>, Ticket> {
        let mut g = self.lock();
        let (found, dropped) = g.users.get(pool_id, key);
        let answer = found.ok_or(Ticket(g.epoch));
        drop(g);
        drop(dropped);
        answer
    }

    /// Caches what a reader found, unless a write was applied since its ticket.
    pub(super) fn fill_user(&self, ticket: Ticket, key: &str, user: &User) {
        let mut g = self.lock();
        if g.epoch == ticket.0 {
            let dropped = g.users.put(key, Arc::new(user.clone()));
            drop(g);
            drop(dropped);
        }
    }

    /// After a commit that wrote `user` under `key`.
    pub(super) fn wrote_user(&self, key: &str, user: Arc<User>) {
        let mut g = self.lock();
        g.epoch += 1;
        let dropped = g.users.put(key, user);
        drop(g);
        drop(dropped);
    }

    /// After a commit that changed a user's group memberships (which leaves its record and
    /// version alone): the cached copy, if any, takes the new names.
    pub(super) fn set_groups(&self, pool_id: &str, key: &str, groups: Vec<String>) {
        let mut g = self.lock();
        g.epoch += 1;
        if let Some(u) = g.users.get_mut(pool_id, key) {
            Arc::make_mut(u).groups = groups;
        }
    }

    /// After a commit that deleted a user.
    pub(super) fn deleted_user(&self, pool_id: &str, key: &str) {
        let mut g = self.lock();
        g.epoch += 1;
        g.users.remove(pool_id, key);
    }

    /// After a commit that deleted a pool (and, by cascade, its users and sessions).
    pub(super) fn deleted_pool(&self, pool_id: &str) {
        let mut g = self.lock();
        g.epoch += 1;
        g.users.remove_pool(pool_id);
        g.sessions.retain(|_, (s, _)| s.pool_id != pool_id);
    }

    /// After a commit that deleted everything (a reset).
    pub(super) fn clear(&self) {
        let mut g = self.lock();
        g.epoch += 1;
        let dropped = std::mem::take(&mut g.users);
        g.sessions.clear();
        drop(g);
        drop(dropped);
    }

    /// The cached session and whether it was used, or a ticket for filling it.
    pub(super) fn session(&self, id: &str) -> Result<(Arc<AuthSession>, bool), Ticket> {
        let g = self.lock();
        match g.sessions.get(id) {
            Some((s, used)) => Ok((s.clone(), *used)),
            None => Err(Ticket(g.epoch)),
        }
    }

    /// Caches a session a reader found, unless a write was applied since its ticket.
    pub(super) fn fill_session(&self, ticket: Ticket, session: &AuthSession, used: bool) {
        let mut g = self.lock();
        if g.epoch == ticket.0 {
            g.put_session(Arc::new(session.clone()), used);
        }
    }

    /// After a commit that stored a new session.
    pub(super) fn wrote_session(&self, session: Arc<AuthSession>) {
        let mut g = self.lock();
        g.epoch += 1;
        g.put_session(session, false);
    }

    /// After a commit that marked a session used.
    pub(super) fn used_session(&self, id: &str) {
        let mut g = self.lock();
        g.epoch += 1;
        if let Some((_, used)) = g.sessions.get_mut(id) {
            *used = true;
        }
    }
}

/// `user` as committed: a user write leaves the stored group names alone, so the cached copy
/// takes those (`groups`), not the ones the writer happened to read before.
pub(super) fn with_groups(user: Arc<User>, groups: &[String]) -> Arc<User> {
    if user.groups == groups {
        return user;
    }
    let mut u = User::clone(&user);
    u.groups = groups.to_vec();
    Arc::new(u)
}

impl Inner {
    fn put_session(&mut self, session: Arc<AuthSession>, used: bool) {
        if self.sessions.len() >= CAPACITY {
            // Sessions are short-lived: drop the expired ones, or else the oldest half by expiry.
            let now = crate::clock::unix_now();
            self.sessions.retain(|_, (s, _)| s.expires_at > now);
            if self.sessions.len() >= CAPACITY {
                let mut expiries: Vec<f64> = self.sessions.values().map(|(s, _)| s.expires_at).collect();
                let mid = expiries.len() / 2;
                let (_, median, _) = expiries.select_nth_unstable_by(mid, f64::total_cmp);
                let median = *median;
                self.sessions.retain(|_, (s, _)| s.expires_at > median);
            }
        }
        self.sessions.insert(session.id.clone(), (session, used));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(pool: &str, name: &str, version: u64) -> User {
        serde_json::from_value(serde_json::json!({
            "pool_id": pool, "username": name, "sub": name, "attributes": [], "enabled": true,
            "status": "CONFIRMED", "created": 1.0, "modified": 1.0, "password": null,
            "lockout": {"failures": 0, "last_failure": 0.0, "locked_until": 0.0},
            "fresh_from_sign_up": false, "version": version,
        }))
        .expect("a user")
    }

    #[test]
    fn a_fill_that_raced_a_write_is_dropped() {
        let hot = Hot::default();
        let Err(ticket) = hot.user("p", "alice") else {
            panic!("empty cache")
        };
        // A write commits while the reader is still reading the old row.
        hot.wrote_user("alice", Arc::new(user("p", "alice", 2)));
        hot.fill_user(ticket, "alice", &user("p", "alice", 1));
        assert_eq!(hot.user("p", "alice").ok().map(|u| u.version), Some(2));

        // A delete races a reader: the reader's copy must not come back.
        let Err(ticket) = hot.user("p", "bob") else {
            panic!("bob is not cached")
        };
        hot.deleted_user("p", "alice");
        hot.fill_user(ticket, "bob", &user("p", "bob", 1));
        assert!(hot.user("p", "bob").is_err());
        assert!(hot.user("p", "alice").is_err());
    }

    #[test]
    fn a_fill_with_no_write_in_between_is_kept() {
        let hot = Hot::default();
        let Err(ticket) = hot.user("p", "carol") else {
            panic!("empty cache")
        };
        hot.fill_user(ticket, "carol", &user("p", "carol", 3));
        assert_eq!(hot.user("p", "carol").ok().map(|u| u.version), Some(3));
        hot.deleted_pool("p");
        assert!(hot.user("p", "carol").is_err());
    }

    #[test]
    fn a_clear_empties_everything_and_stops_a_racing_fill() {
        let hot = Hot::default();
        hot.wrote_user("alice", Arc::new(user("p", "alice", 1)));
        let Err(ticket) = hot.user("q", "bob") else {
            panic!("bob is not cached")
        };
        hot.clear();
        hot.fill_user(ticket, "bob", &user("q", "bob", 1));
        assert!(hot.user("p", "alice").is_err());
        assert!(hot.user("q", "bob").is_err(), "a read from before the reset came back");
        assert_eq!(hot.lock().users.len(), 0);
    }

    #[test]
    fn a_membership_change_reaches_the_cached_copy_and_stops_a_racing_fill() {
        let hot = Hot::default();
        hot.wrote_user("alice", Arc::new(user("p", "alice", 1)));
        hot.set_groups("p", "alice", vec!["admins".into()]);
        let cached = hot.user("p", "alice").ok().expect("still cached");
        assert_eq!(cached.groups, ["admins"]);
        assert_eq!(cached.version, 1, "a membership change is no user write");

        // A reader that started before the change must not put its older copy back.
        let Err(ticket) = hot.user("p", "bob") else {
            panic!("bob is not cached")
        };
        hot.set_groups("p", "bob", vec!["staff".into()]);
        hot.fill_user(ticket, "bob", &user("p", "bob", 1));
        assert!(hot.user("p", "bob").is_err());

        // A user write caches the stored names, not the stale ones its writer read.
        let stale = Arc::new(user("p", "alice", 2));
        let written = with_groups(stale, &["admins".to_owned(), "staff".to_owned()]);
        hot.wrote_user("alice", written);
        assert_eq!(
            hot.user("p", "alice").ok().map(|u| u.groups.clone()),
            Some(vec!["admins".into(), "staff".into()])
        );
    }

    #[test]
    fn a_few_active_users_stay_cached_while_many_others_pass_through() {
        // A pool far larger than the cache: every user written once (as a bulk load does), then a
        // hundred of them read over and over, each miss filled as the store does.
        // Between rounds, more users are written than the cache holds, so generations turn.
        let hot = Hot::default();
        let mut seeded = 0;
        let mut seed = |n: usize| {
            for i in seeded..seeded + n {
                hot.wrote_user(&format!("seed{i}"), Arc::new(user("p", &format!("seed{i}"), 1)));
            }
            seeded += n;
        };
        seed(CAPACITY * 3 / 2);
        let active: Vec<String> = (0..100).map(|i| format!("active{i}")).collect();
        let mut misses_after_warm_up = 0;
        for round in 0..6 {
            if round > 1 {
                seed(CAPACITY / 3);
            }
            for name in &active {
                if let Err(ticket) = hot.user("p", name) {
                    hot.fill_user(ticket, name, &user("p", name, 1));
                    if round > 0 {
                        misses_after_warm_up += 1;
                    }
                }
            }
        }
        assert_eq!(
            misses_after_warm_up, 0,
            "active users were evicted by each other's fills"
        );
    }

    #[test]
    fn stays_bounded() {
        let hot = Hot::default();
        for i in 0..CAPACITY + 10 {
            hot.wrote_user(&format!("u{i}"), Arc::new(user("p", &format!("u{i}"), 1)));
        }
        let g = hot.lock();
        let counted = |m: &ByPool| m.values().map(HashMap::len).sum::<usize>();
        assert!(g.users.len() <= CAPACITY);
        assert_eq!(counted(&g.users.young) + counted(&g.users.old), g.users.len());
        assert!(g.users.len() >= CAPACITY / 2, "a turn keeps the previous generation");
    }
}
