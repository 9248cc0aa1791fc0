//! Users: what is stored, how usernames and aliases are keyed, and attribute rules.

pub mod attributes;
pub mod codes;
pub mod delivery;
pub mod mfa;
pub mod passkey;
pub mod password;

use crate::pool::UserPool;
use crate::store::AliasKey;
use cmfa_wire::shapes::{AliasAttributeType, AttributeType, UserStatusType, UserType, UsernameAttributeType};
use password::PasswordRecord;
use serde::{Deserialize, Serialize};

/// One user as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub pool_id: String,
    /// The internal username (a UUID in pools whose users sign in with email or phone).
    pub username: String,
    pub sub: String,
    /// Every attribute, `sub` included, in the order AWS lists them.
    pub attributes: Vec<AttributeType>,
    pub enabled: bool,
    pub status: UserStatusType,
    pub created: f64,
    pub modified: f64,
    pub password: Option<PasswordRecord>,
    /// Failed sign-in attempts, for AWS's exponential lockout.
    pub lockout: Lockout,
    /// The user confirmed a sign-up code and has not signed in since: AWS lets that first
    /// sign-in skip required MFA.
    pub fresh_from_sign_up: bool,
    /// Codes sent and not yet used (sign-up, password reset, attribute verification).
    #[serde(default)]
    pub codes: Vec<codes::PendingCode>,
    /// MFA factors and the authenticator app.
    #[serde(default)]
    pub mfa: mfa::UserMfa,
    /// When the user was last signed out everywhere (GlobalSignOut, AdminUserGlobalSignOut), in
    /// Unix milliseconds; 0 if never. Every token of an earlier sign-in is refused.
    #[serde(default)]
    pub signed_out_at_ms: u64,
    /// The names of the user's groups, in name order. Not part of the stored record: the
    /// adapters keep it in a column of its own, fill it in when they read one user
    /// (`get_user`, `list_group_members`; ListUsers leaves it empty, it shows no groups), and
    /// user writes leave it alone (see [`crate::group`]).
    #[serde(skip)]
    pub groups: Vec<String>,
    /// Registered passkeys (WebAuthn credentials).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<passkey::Passkey>,
    pub version: u64,
}

/// Counting failures for the lockout (reference §4.6): 2^(n-5) seconds after the fifth.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lockout {
    pub failures: u32,
    pub last_failure: f64,
    pub locked_until: f64,
}

/// Failures forgotten after this long without an attempt.
const LOCKOUT_RESET_SECS: f64 = 900.0;

impl Lockout {
    /// Whether attempts are refused at `now`.
    pub fn is_locked(&self, now: f64) -> bool {
        now < self.locked_until
    }

    /// Records a failure at `now`.
    pub fn fail(&mut self, now: f64) {
        if now - self.last_failure > LOCKOUT_RESET_SECS {
            self.failures = 0;
        }
        self.failures += 1;
        self.last_failure = now;
        if self.failures >= 5 {
            let secs = 2f64.powi((self.failures - 5).min(10) as i32).min(LOCKOUT_RESET_SECS);
            self.locked_until = now + secs;
        }
    }

    /// A successful sign-in clears the count.
    pub fn succeed(&mut self) {
        *self = Lockout::default();
    }
}

impl User {
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.value.as_deref())
    }

    /// Sets (or removes, with `None`) an attribute, keeping AWS's order for new ones at the end.
    pub fn set_attr(&mut self, name: &str, value: Option<String>) {
        let value = value.map(|v| attributes::normalized(name, v));
        match (self.attributes.iter().position(|a| a.name == name), value) {
            (Some(i), Some(v)) => self.attributes[i].value = Some(v),
            (Some(i), None) => {
                self.attributes.remove(i);
            }
            (None, Some(v)) => self.attributes.push(AttributeType {
                name: name.to_owned(),
                value: Some(v),
            }),
            (None, None) => {}
        }
    }

    /// Whether a boolean attribute such as `email_verified` is "true".
    pub fn flag(&self, name: &str) -> bool {
        self.attr(name) == Some("true")
    }
}

/// How a pool compares usernames: case-insensitively when `UsernameConfiguration.CaseSensitive`
/// is false, exactly otherwise (AWS's default for pools created through the API).
pub fn username_key(pool: &UserPool, username: &str) -> String {
    let insensitive = pool
        .config
        .username_configuration
        .as_ref()
        .is_some_and(|u| !u.case_sensitive);
    if insensitive {
        username.to_lowercase()
    } else {
        username.to_owned()
    }
}

/// Alias values (email, phone) compare case-insensitively for email, exactly for phone.
pub fn alias_key(kind: &str, value: &str) -> String {
    if kind == "email" {
        value.to_lowercase()
    } else {
        value.to_owned()
    }
}

/// The attributes ListUsers can filter on (`Filter: "name = \"value\""` or `^=`), with the
/// pseudo-attributes `username`, `cognito:user_status` and `status`. The one place this rule
/// lives: the stores index exactly [`search_index`]'s rows, and the filter parser accepts exactly
/// these names.
pub const SEARCHABLE: &[&str] = &[
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

/// The (attribute, value) rows a store indexes for ListUsers' filters on `user`.
pub fn search_index(user: &User) -> Vec<(&'static str, String)> {
    SEARCHABLE
        .iter()
        .filter_map(|name| {
            let value = match *name {
                "username" => Some(user.username.clone()),
                "cognito:user_status" => Some(user.status.as_str().to_owned()),
                "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }.to_owned()),
                attr => user.attr(attr).map(str::to_owned),
            };
            value.map(|v| (*name, v))
        })
        .collect()
}

/// The alias keys a user has: email/phone when they sign in with them (UsernameAttributes), or
/// verified email/phone and preferred_username when the pool allows them as aliases.
pub fn alias_keys(pool: &UserPool, user: &User) -> Vec<AliasKey> {
    let mut out = Vec::new();
    let username_attrs = pool.config.username_attributes.as_deref().unwrap_or(&[]);
    let alias_attrs = pool.config.alias_attributes.as_deref().unwrap_or(&[]);
    for (kind, as_username, as_alias) in [
        (
            "email",
            username_attrs.contains(&UsernameAttributeType::Email),
            alias_attrs.contains(&AliasAttributeType::Email),
        ),
        (
            "phone_number",
            username_attrs.contains(&UsernameAttributeType::PhoneNumber),
            alias_attrs.contains(&AliasAttributeType::PhoneNumber),
        ),
    ] {
        if let Some(v) = user.attr(kind) {
            let verified = user.flag(&format!("{kind}_verified"));
            if as_username || (as_alias && verified) {
                out.push(AliasKey {
                    kind,
                    value: alias_key(kind, v),
                });
            }
        }
    }
    if alias_attrs.contains(&AliasAttributeType::PreferredUsername)
        && let Some(v) = user.attr("preferred_username")
    {
        out.push(AliasKey {
            kind: "preferred_username",
            value: v.to_lowercase(),
        });
    }
    for p in &user.passkeys {
        out.push(AliasKey {
            kind: "passkey",
            value: p.id.clone(),
        });
    }
    out
}

/// A user as UserType / AdminGetUser show it.
pub fn user_type(u: &User) -> UserType {
    UserType {
        username: Some(u.username.clone()),
        attributes: Some(u.attributes.clone()),
        user_create_date: Some(u.created),
        user_last_modified_date: Some(u.modified),
        enabled: Some(u.enabled),
        user_status: Some(u.status),
        mfa_options: mfa::mfa_options(u),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_doubles_after_five_failures() {
        let mut l = Lockout::default();
        for _ in 0..4 {
            l.fail(100.0);
        }
        assert!(!l.is_locked(100.0));
        l.fail(100.0);
        assert!(l.is_locked(100.5));
        assert!(!l.is_locked(101.0));
        l.fail(101.0);
        assert!(l.is_locked(102.5));
        assert!(!l.is_locked(103.0));
        l.succeed();
        assert!(!l.is_locked(103.0));
    }
}
