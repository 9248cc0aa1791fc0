//! What the operations share: finding pools, clients and users, saving a user, counting a
//! failed attempt, and creating a user.

use super::{Caller, Service};
use crate::client::AppClient;
use crate::error::{DomainError, Result};
use crate::messages::{USER_NOT_FOUND, USERNAME_EXISTS};
use crate::outbound::OutboundMessage;
use crate::pool::{UserPool, not_found_message};
use crate::store::{AliasKey, StoreError};
use crate::user::{Lockout, User, alias_key, alias_keys, attributes, username_key};
use cmfa_wire::shapes::{AttributeType, UserStatusType, UsernameAttributeType};
use std::sync::Arc;

impl Service {
    /// The pool, if it exists in the caller's region (pools are regional, as in AWS: a pool id
    /// from another region is answered as unknown).
    pub(crate) async fn load_pool(&self, caller: &Caller, id: &str) -> crate::Result<Arc<crate::pool::UserPool>> {
        let missing = || crate::DomainError::ResourceNotFound(crate::pool::not_found_message(id));
        if crate::ids::region_of_pool_id(id) != caller.region {
            return Err(missing());
        }
        self.store.get_pool(id).await?.ok_or_else(missing)
    }

    /// The client, if it belongs to `pool_id`.
    pub(crate) async fn load_client(&self, pool_id: &str, client_id: &str) -> Result<Arc<AppClient>> {
        match self.store.get_client(client_id).await? {
            Some(c) if c.pool_id == pool_id => Ok(c),
            _ => Err(DomainError::ResourceNotFound(not_found_message(client_id))),
        }
    }

    pub(crate) async fn load_client_any(&self, client_id: &str) -> Result<(Arc<AppClient>, Arc<UserPool>)> {
        let missing = || DomainError::ResourceNotFound(crate::client::not_found_message(client_id));
        let client = self.store.get_client(client_id).await?.ok_or_else(missing)?;
        let pool = self.store.get_pool(&client.pool_id).await?.ok_or_else(missing)?;
        Ok((client, pool))
    }

    /// Finds a user by what they typed as username: the username itself, or an alias.
    pub(crate) async fn find_user(&self, pool: &UserPool, username: &str) -> Result<Option<(String, User)>> {
        let key = username_key(pool, username);
        if let Some(u) = self.store.get_user(&pool.id, &key).await? {
            return Ok(Some((key, u)));
        }
        for kind in ["email", "phone_number", "preferred_username"] {
            let value = if kind == "preferred_username" {
                username.to_lowercase()
            } else {
                alias_key(kind, username)
            };
            if let Some(k) = self.store.find_alias(&pool.id, &AliasKey { kind, value }).await?
                && let Some(u) = self.store.get_user(&pool.id, &k).await?
            {
                return Ok(Some((k, u)));
            }
        }
        Ok(None)
    }

    pub(crate) async fn require_user(&self, pool: &UserPool, username: &str) -> Result<(String, User)> {
        self.find_user(pool, username)
            .await?
            .ok_or_else(|| DomainError::UserNotFound(USER_NOT_FOUND.into()))
    }

    /// Counts a failed attempt toward the user's lockout. Concurrent failures all count: on a
    /// version conflict the user is read again and the failure applied to the fresh copy.
    pub(crate) async fn record_failure(&self, pool: &UserPool, key: &str, mut user: User) {
        // Each conflict means another write landed; a burst of N failures needs up to N rounds.
        for _ in 0..64 {
            user.lockout.fail(self.clock.now());
            let mut next = user.clone();
            next.version += 1;
            next.modified = self.clock.now_millis();
            match self.store.update_user(&next, key, &alias_keys(pool, &next), None).await {
                Err(StoreError::Conflict) => match self.store.get_user(&pool.id, key).await {
                    Ok(Some(fresh)) => user = fresh,
                    _ => return,
                },
                _ => return,
            }
        }
    }

    /// Saves a changed user (version bumped here).
    pub(crate) async fn save_user(
        &self,
        pool: &UserPool,
        key: &str,
        mut user: User,
        message: Option<&OutboundMessage>,
    ) -> Result<User> {
        user.version += 1;
        user.modified = self.clock.now_millis();
        match self
            .store
            .update_user(&user, key, &alias_keys(pool, &user), message)
            .await
        {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict) => Err(DomainError::AliasExists(
                "An account with the given email already exists.".into(),
            )),
            Err(StoreError::NotFound) => Err(DomainError::UserNotFound(USER_NOT_FOUND.into())),
            Err(e) => Err(e.into()),
        }
    }

    /// Builds a new user from a requested username: in pools whose users sign in with email or
    /// phone, the internal username is a UUID and the value becomes the attribute.
    pub(crate) fn new_user(&self, pool: &UserPool, username: &str, attrs: Vec<AttributeType>) -> Result<User> {
        let now = self.clock.now_millis();
        let sub = uuid::Uuid::new_v4().to_string();
        let username_attrs = pool.config.username_attributes.as_deref().unwrap_or(&[]);
        let mut attributes = vec![AttributeType {
            name: "sub".into(),
            value: Some(sub.clone()),
        }];
        attributes.extend(attrs.into_iter().map(|a| AttributeType {
            value: a.value.map(|v| attributes::normalized(&a.name, v)),
            name: a.name,
        }));
        let internal = if username_attrs.is_empty() {
            username.to_owned()
        } else {
            let is_email = username.contains('@');
            let is_phone = username.starts_with('+');
            let kind = if is_email && username_attrs.contains(&UsernameAttributeType::Email) {
                "email"
            } else if is_phone && username_attrs.contains(&UsernameAttributeType::PhoneNumber) {
                "phone_number"
            } else {
                let what = match username_attrs {
                    [UsernameAttributeType::Email] => "Username should be an email.",
                    [UsernameAttributeType::PhoneNumber] => "Username should be a phone number.",
                    _ => "Username should be either an email or a phone number.",
                };
                return Err(DomainError::InvalidParameter(what.into()));
            };
            let mut u = User {
                pool_id: pool.id.clone(),
                username: String::new(),
                sub: sub.clone(),
                attributes,
                enabled: true,
                status: UserStatusType::Unconfirmed,
                created: now,
                modified: now,
                password: None,
                lockout: Lockout::default(),
                fresh_from_sign_up: false,
                codes: vec![],
                mfa: Default::default(),
                signed_out_at_ms: 0,
                groups: Vec::new(),
                passkeys: Vec::new(),
                version: 1,
            };
            u.set_attr(kind, Some(username.to_owned()));
            attributes::check_attribute(
                pool,
                &AttributeType {
                    name: kind.into(),
                    value: Some(username.into()),
                },
            )?;
            u.username = sub.clone();
            return Ok(u);
        };
        Ok(User {
            pool_id: pool.id.clone(),
            username: internal,
            sub,
            attributes,
            enabled: true,
            status: UserStatusType::Unconfirmed,
            created: now,
            modified: now,
            password: None,
            lockout: Lockout::default(),
            fresh_from_sign_up: false,
            codes: vec![],
            mfa: Default::default(),
            signed_out_at_ms: 0,
            groups: Vec::new(),
            passkeys: Vec::new(),
            version: 1,
        })
    }

    pub(crate) async fn insert_user(
        &self,
        pool: &UserPool,
        user: &User,
        message: Option<&OutboundMessage>,
    ) -> Result<String> {
        let key = username_key(pool, &user.username);
        let aliases = alias_keys(pool, user);
        for a in &aliases {
            if self.store.find_alias(&pool.id, a).await?.is_some() {
                let what = if a.kind == "phone_number" {
                    "phone_number"
                } else {
                    a.kind
                };
                return Err(DomainError::UsernameExists(format!(
                    "An account with the given {what} already exists."
                )));
            }
        }
        match self.store.create_user(user, &key, &aliases, message).await {
            Ok(()) => Ok(key),
            Err(StoreError::Conflict) => Err(DomainError::UsernameExists(USERNAME_EXISTS.into())),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(crate::pool::not_found_message(&pool.id))),
            Err(e) => Err(e.into()),
        }
    }
}
