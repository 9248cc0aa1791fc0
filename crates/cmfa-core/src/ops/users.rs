//! Users: sign-up and confirmation, administrator-created users, reading and deleting users.

use super::{Caller, Service};
use crate::client::AppClient;
use crate::error::{DomainError, Result};
use crate::outbound::{Channel, OutboundMessage};
use crate::pool::UserPool;
use crate::store::{AliasKey, StoreError, UserFilter};
use crate::user::codes::CodePurpose;
use crate::user::delivery::{self, mask_email, mask_phone};
use crate::user::password::check_policy;
use crate::user::{Lockout, User, alias_key, attributes, username_key};
use cmfa_wire::shapes::{
    AdminConfirmSignUpRequest, AdminConfirmSignUpResponse, AdminCreateUserRequest, AdminCreateUserResponse,
    AdminDeleteUserRequest, AdminDisableUserRequest, AdminDisableUserResponse, AdminEnableUserRequest,
    AdminEnableUserResponse, AdminGetUserRequest, AdminGetUserResponse, AdminSetUserPasswordRequest,
    AdminSetUserPasswordResponse, AliasAttributeType, AttributeType, CodeDeliveryDetailsType, ConfirmSignUpRequest,
    ConfirmSignUpResponse, DeliveryMediumType, ListUsersRequest, ListUsersResponse, MessageActionType,
    PasswordPolicyType, ResendConfirmationCodeRequest, ResendConfirmationCodeResponse, SignUpRequest, SignUpResponse,
    UserStatusType, UserType, UsernameAttributeType, VerifiedAttributeType,
};
use std::sync::Arc;

pub(crate) use crate::messages::USER_NOT_FOUND;
pub(crate) const USERNAME_EXISTS: &str = "User already exists";
/// AdminCreateUser's answer for a taken username (SignUp says [`USERNAME_EXISTS`]).
const ACCOUNT_EXISTS: &str = "User account already exists";
pub(crate) use crate::messages::CLIENT_USER_NOT_FOUND;

/// The alias keys a user has: email/phone when they sign in with them (UsernameAttributes), or
/// verified email/phone and preferred_username when the pool allows them as aliases.
pub(crate) fn alias_keys(pool: &UserPool, user: &User) -> Vec<AliasKey> {
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
    out
}

/// SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id)).
pub(crate) fn check_secret_hash(client: &AppClient, username: &str, given: Option<&str>) -> Result<()> {
    use base64::Engine;
    use hmac::{Mac, digest::KeyInit};
    let Some(secret) = client.config.client_secret.as_deref() else {
        return Ok(());
    };
    let Some(given) = given else {
        return Err(DomainError::NotAuthorized(format!(
            "Client {} is configured with secret but SECRET_HASH was not received",
            client.client_id
        )));
    };
    let bad = || DomainError::NotAuthorized(format!("Unable to verify secret hash for client {}", client.client_id));
    let tag = base64::engine::general_purpose::STANDARD
        .decode(given)
        .map_err(|_| bad())?;
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).map_err(|_| bad())?;
    mac.update(username.as_bytes());
    mac.update(client.client_id.as_bytes());
    if crate::ct::eq(&mac.finalize().into_bytes(), &tag) {
        Ok(())
    } else {
        Err(bad())
    }
}

fn now_attr(user: &mut User, name: &str, value: &str) {
    user.set_attr(name, Some(value.to_owned()));
}

/// Where a verification code goes: the auto-verified attribute the user has (email first).
fn verification_target(pool: &UserPool, user: &User) -> Option<(Channel, &'static str, String)> {
    let auto = pool.config.auto_verified_attributes.as_deref().unwrap_or(&[]);
    if auto.contains(&VerifiedAttributeType::Email)
        && let Some(e) = user.attr("email")
    {
        return Some((Channel::Email, "email", e.to_owned()));
    }
    if auto.contains(&VerifiedAttributeType::PhoneNumber)
        && let Some(p) = user.attr("phone_number")
    {
        return Some((Channel::Sms, "phone_number", p.to_owned()));
    }
    None
}

pub(crate) fn delivery_details(channel: Channel, attribute: &str, destination: &str) -> CodeDeliveryDetailsType {
    CodeDeliveryDetailsType {
        destination: Some(match channel {
            Channel::Email => mask_email(destination),
            Channel::Sms => mask_phone(destination),
        }),
        delivery_medium: Some(match channel {
            Channel::Email => DeliveryMediumType::Email,
            Channel::Sms => DeliveryMediumType::Sms,
        }),
        attribute_name: Some(attribute.to_owned()),
    }
}

/// A user as UserType / AdminGetUser show it.
pub(crate) fn user_type(u: &User) -> UserType {
    UserType {
        username: Some(u.username.clone()),
        attributes: Some(u.attributes.clone()),
        user_create_date: Some(u.created),
        user_last_modified_date: Some(u.modified),
        enabled: Some(u.enabled),
        user_status: Some(u.status),
        mfa_options: super::mfa_user::mfa_options(u),
    }
}

/// A temporary password that satisfies the policy (AdminCreateUser without one).
fn temporary_password(policy: &PasswordPolicyType) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let len = (policy.minimum_length.unwrap_or(8).max(12)) as usize;
    let sets: [&[u8]; 4] = [
        b"abcdefghijkmnopqrstuvwxyz",
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"23456789",
        b"^$*.[]{}()?!@#%&",
    ];
    let mut out: Vec<u8> = sets.iter().map(|s| s[rng.random_range(0..s.len())]).collect();
    while out.len() < len {
        let s = sets[rng.random_range(0..2)];
        out.push(s[rng.random_range(0..s.len())]);
    }
    String::from_utf8(out).unwrap_or_default()
}

impl Service {
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
    fn new_user(&self, pool: &UserPool, username: &str, attrs: Vec<AttributeType>) -> Result<User> {
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
                version: 1,
            };
            now_attr(&mut u, kind, username);
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
            version: 1,
        })
    }

    async fn insert_user(&self, pool: &UserPool, user: &User, message: Option<&OutboundMessage>) -> Result<String> {
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

    pub(crate) fn policy(pool: &UserPool) -> PasswordPolicyType {
        pool.config
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.clone())
            .unwrap_or_default()
    }

    pub async fn sign_up(&self, req: SignUpRequest) -> Result<SignUpResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let attrs = req.user_attributes.unwrap_or_default();
        super::user_attributes::refuse_developer_only(&attrs)?;
        attributes::check_writable(&pool, &attrs, true)?;
        let mut user = self.new_user(&pool, &req.username, attrs)?;
        attributes::check_required(&pool, &user.attributes)?;
        if let Some(pw) = &req.password {
            check_policy(&Self::policy(&pool), pw)?;
            user.password = Some(
                self.new_password(&pool.id, &user.username, pw, false, user.created)
                    .await?,
            );
        }
        let mut details = None;
        let mut message = None;
        if let Some((channel, attr, dest)) = verification_target(&pool, &user) {
            let code = user.issue_code(CodePurpose::SignUp, self.clock.now());
            details = Some(delivery_details(channel, attr, &dest));
            message = Some(delivery::code_message(&pool, &user, channel, dest, &code, "SIGN_UP"));
        }
        self.insert_user(&pool, &user, message.as_ref()).await?;
        Ok(SignUpResponse {
            user_confirmed: false,
            code_delivery_details: details,
            user_sub: user.sub,
            session: None,
        })
    }

    pub(crate) fn hides_existence(client: &AppClient) -> bool {
        client.config.prevent_user_existence_errors == Some(cmfa_wire::shapes::PreventUserExistenceErrorTypes::Enabled)
    }

    pub async fn confirm_sign_up(&self, req: ConfirmSignUpRequest) -> Result<ConfirmSignUpResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let Some((key, mut user)) = self.find_user(&pool, &req.username).await? else {
            return Err(if Self::hides_existence(&client) {
                DomainError::CodeMismatch(crate::user::codes::MISMATCH.into())
            } else {
                DomainError::UserNotFound(CLIENT_USER_NOT_FOUND.into())
            });
        };
        if user.status != UserStatusType::Unconfirmed {
            return Err(DomainError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        let result = user.redeem_code(CodePurpose::SignUp, &req.confirmation_code, self.clock.now());
        if let Err(e) = result {
            // Attempts are state: keep the count even though the call fails.
            let _ = self.save_user(&pool, &key, user, None).await;
            return Err(e);
        }
        if let Some((_, attr, _)) = verification_target(&pool, &user) {
            now_attr(&mut user, &format!("{attr}_verified"), "true");
        }
        user.status = UserStatusType::Confirmed;
        user.fresh_from_sign_up = true;
        self.save_user(&pool, &key, user, None).await?;
        Ok(ConfirmSignUpResponse { session: None })
    }

    pub async fn resend_confirmation_code(
        &self,
        req: ResendConfirmationCodeRequest,
    ) -> Result<ResendConfirmationCodeResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let (key, mut user) = match self.find_user(&pool, &req.username).await? {
            Some(x) => x,
            None => return Err(DomainError::UserNotFound(CLIENT_USER_NOT_FOUND.into())),
        };
        if user.status != UserStatusType::Unconfirmed {
            return Err(DomainError::InvalidParameter("User is already confirmed.".into()));
        }
        let Some((channel, attr, dest)) = verification_target(&pool, &user) else {
            return Err(DomainError::InvalidParameter(
                "Auto verification not turned on or the user has no attribute to verify.".into(),
            ));
        };
        let code = user.issue_code(CodePurpose::SignUp, self.clock.now());
        let message = delivery::code_message(&pool, &user, channel, dest.clone(), &code, "SIGN_UP");
        self.save_user(&pool, &key, user, Some(&message)).await?;
        Ok(ResendConfirmationCodeResponse {
            code_delivery_details: Some(delivery_details(channel, attr, &dest)),
        })
    }

    pub async fn admin_create_user(
        &self,
        caller: &Caller,
        req: AdminCreateUserRequest,
    ) -> Result<AdminCreateUserResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let attrs = req.user_attributes.clone().unwrap_or_default();
        attributes::check_writable(&pool, &attrs, true)?;
        let policy = Self::policy(&pool);
        let temp = match &req.temporary_password {
            Some(p) => {
                check_policy(&policy, p)?;
                p.clone()
            }
            None => temporary_password(&policy),
        };
        let resend = req.message_action == Some(MessageActionType::Resend);
        let (key, mut user, existing) = if resend {
            let (k, u) = self.require_user(&pool, &req.username).await?;
            if u.status != UserStatusType::ForceChangePassword {
                return Err(DomainError::UnsupportedUserState(
                    "User is not in FORCE_CHANGE_PASSWORD state.".into(),
                ));
            }
            (k, u, true)
        } else {
            let u = self.new_user(&pool, &req.username, attrs)?;
            attributes::check_required(&pool, &u.attributes)?;
            let key = username_key(&pool, &u.username);
            // Before any hashing: AdminCreateUser's own text for a taken username.
            if self.store.get_user(&pool.id, &key).await?.is_some() {
                return Err(DomainError::UsernameExists(ACCOUNT_EXISTS.into()));
            }
            (key, u, false)
        };
        user.status = UserStatusType::ForceChangePassword;
        user.password = Some(
            self.new_password(&pool.id, &user.username, &temp, true, self.clock.now())
                .await?,
        );
        let message = if req.message_action == Some(MessageActionType::Suppress) {
            None
        } else {
            let mediums = req
                .desired_delivery_mediums
                .clone()
                .unwrap_or_else(|| vec![DeliveryMediumType::Sms]);
            let (subject, email_body, sms_body) = delivery::invitation(&pool, &req.username, &temp);
            let email = user.attr("email").map(str::to_owned);
            let phone = user.attr("phone_number").map(str::to_owned);
            let pick = if mediums.contains(&DeliveryMediumType::Email) && email.is_some() {
                Some((Channel::Email, email.unwrap_or_default(), Some(subject), email_body))
            } else if mediums.contains(&DeliveryMediumType::Sms) && phone.is_some() {
                Some((Channel::Sms, phone.unwrap_or_default(), None, sms_body))
            } else {
                None
            };
            pick.map(|(channel, destination, subject, body)| OutboundMessage {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                channel,
                destination,
                subject,
                body,
                purpose: "INVITATION".into(),
            })
        };
        if existing {
            user = self.save_user(&pool, &key, user, message.as_ref()).await?;
        } else {
            self.insert_user(&pool, &user, message.as_ref())
                .await
                .map_err(|e| match e {
                    DomainError::UsernameExists(m) if m == USERNAME_EXISTS => {
                        DomainError::UsernameExists(ACCOUNT_EXISTS.into())
                    }
                    e => e,
                })?;
        }
        Ok(AdminCreateUserResponse {
            user: Some(user_type(&user)),
        })
    }

    pub async fn admin_confirm_sign_up(
        &self,
        caller: &Caller,
        req: AdminConfirmSignUpRequest,
    ) -> Result<AdminConfirmSignUpResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        if user.status != UserStatusType::Unconfirmed {
            return Err(DomainError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        user.status = UserStatusType::Confirmed;
        user.codes.retain(|c| c.purpose != CodePurpose::SignUp);
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminConfirmSignUpResponse {})
    }

    pub async fn admin_get_user(&self, caller: &Caller, req: AdminGetUserRequest) -> Result<AdminGetUserResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (_, u) = self.require_user(&pool, &req.username).await?;
        let (mfa_options, preferred_mfa_setting, user_mfa_setting_list) = Self::user_mfa_fields(&u);
        Ok(AdminGetUserResponse {
            username: u.username.clone(),
            user_attributes: Some(u.attributes.clone()),
            user_create_date: Some(u.created),
            user_last_modified_date: Some(u.modified),
            enabled: Some(u.enabled),
            user_status: Some(u.status),
            mfa_options,
            preferred_mfa_setting,
            user_mfa_setting_list,
        })
    }

    pub async fn admin_delete_user(&self, caller: &Caller, req: AdminDeleteUserRequest) -> Result<()> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, _) = self.require_user(&pool, &req.username).await?;
        match self.store.delete_user(&pool.id, &key).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::UserNotFound(USER_NOT_FOUND.into())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn admin_set_user_password(
        &self,
        caller: &Caller,
        req: AdminSetUserPasswordRequest,
    ) -> Result<AdminSetUserPasswordResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        check_policy(&Self::policy(&pool), &req.password)?;
        let permanent = req.permanent.unwrap_or(false);
        user.password = Some(
            self.new_password(&pool.id, &user.username, &req.password, !permanent, self.clock.now())
                .await?,
        );
        user.status = if permanent {
            UserStatusType::Confirmed
        } else {
            UserStatusType::ForceChangePassword
        };
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminSetUserPasswordResponse {})
    }

    async fn set_enabled(&self, caller: &Caller, pool_id: &str, username: &str, enabled: bool) -> Result<()> {
        let pool = self.load_pool(caller, pool_id).await?;
        let (key, mut user) = self.require_user(&pool, username).await?;
        user.enabled = enabled;
        self.save_user(&pool, &key, user, None).await?;
        Ok(())
    }

    pub async fn admin_disable_user(
        &self,
        caller: &Caller,
        req: AdminDisableUserRequest,
    ) -> Result<AdminDisableUserResponse> {
        self.set_enabled(caller, &req.user_pool_id, &req.username, false)
            .await?;
        Ok(AdminDisableUserResponse {})
    }

    pub async fn admin_enable_user(
        &self,
        caller: &Caller,
        req: AdminEnableUserRequest,
    ) -> Result<AdminEnableUserResponse> {
        self.set_enabled(caller, &req.user_pool_id, &req.username, true).await?;
        Ok(AdminEnableUserResponse {})
    }

    pub async fn list_users(&self, caller: &Caller, req: ListUsersRequest) -> Result<ListUsersResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let filter = req
            .filter
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .map(parse_filter)
            .transpose()?;
        let limit = req.limit.unwrap_or(60).clamp(1, 60) as usize;
        let mut users = self
            .store
            .list_users(&pool.id, filter.as_ref(), req.pagination_token.as_deref(), limit + 1)
            .await?;
        let more = users.len() > limit;
        users.truncate(limit);
        let token = if more {
            users.last().map(|u| username_key(&pool, &u.username))
        } else {
            None
        };
        let wanted = req.attributes_to_get.as_ref();
        Ok(ListUsersResponse {
            users: Some(
                users
                    .iter()
                    .map(|u| {
                        let mut t = user_type(u);
                        if let Some(w) = wanted {
                            t.attributes = Some(u.attributes.iter().filter(|a| w.contains(&a.name)).cloned().collect());
                        }
                        t
                    })
                    .collect(),
            ),
            pagination_token: token,
        })
    }
}

/// Parses ListUsers' `Filter`: `attr = "value"` or `attr ^= "prefix"` on the searchable attributes.
pub(crate) fn parse_filter(f: &str) -> Result<UserFilter> {
    let bad = || DomainError::InvalidParameter("Error while parsing filter.".into());
    let (attr, rest, prefix) = if let Some((a, r)) = f.split_once("^=") {
        (a, r, true)
    } else if let Some((a, r)) = f.split_once('=') {
        (a, r, false)
    } else {
        return Err(bad());
    };
    let attr = attr.trim();
    let rest = rest.trim();
    let value = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(bad)?;
    if !crate::user::SEARCHABLE.contains(&attr) {
        return Err(DomainError::InvalidParameter(format!(
            "Invalid search attribute: {attr}"
        )));
    }
    Ok(UserFilter {
        attribute: attr.to_owned(),
        value: value.replace("\\\"", "\""),
        prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        assert_eq!(
            parse_filter("email ^= \"ali\"").unwrap(),
            UserFilter {
                attribute: "email".into(),
                value: "ali".into(),
                prefix: true
            }
        );
        assert_eq!(
            parse_filter("username=\"bob\"").unwrap(),
            UserFilter {
                attribute: "username".into(),
                value: "bob".into(),
                prefix: false
            }
        );
        assert!(parse_filter("custom:x = \"1\"").is_err());
        assert!(parse_filter("email = bob").is_err());
    }
}
