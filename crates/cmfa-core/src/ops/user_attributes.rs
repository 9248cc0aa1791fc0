//! User attributes after sign-up: updating and deleting them (by the user or an administrator),
//! and verifying email and phone numbers with a code.
//!
//! A changed email or phone number is unverified until its code comes back; the code goes out
//! through the outbox in the same transaction that saves the change.

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::outbound::Channel;
use crate::pool::UserPool;
use crate::user::codes::CodePurpose;
use crate::user::delivery::delivery_details;
use crate::user::{User, attributes, delivery};
use cmfa_wire::shapes::{
    AdminDeleteUserAttributesRequest, AdminDeleteUserAttributesResponse, AdminUpdateUserAttributesRequest,
    AdminUpdateUserAttributesResponse, AttributeType, CodeDeliveryDetailsType, DeleteUserAttributesRequest,
    DeleteUserAttributesResponse, GetUserAttributeVerificationCodeRequest, GetUserAttributeVerificationCodeResponse,
    UpdateUserAttributesRequest, UpdateUserAttributesResponse, VerifiedAttributeType, VerifyUserAttributeRequest,
    VerifyUserAttributeResponse,
};

const SCHEMA: &str = "Attributes did not conform to the schema: ";
pub(crate) const UNAUTHORIZED_ATTRIBUTE: &str = "A client attempted to write unauthorized attribute";

/// Developer-only (`dev:`) attributes are written with IAM credentials only (the model's
/// `DeveloperOnlyAttribute`): SignUp and UpdateUserAttributes refuse them.
pub(crate) fn refuse_developer_only(attrs: &[AttributeType]) -> Result<()> {
    if attrs.iter().any(|a| a.name.starts_with("dev:")) {
        return Err(DomainError::NotAuthorized(UNAUTHORIZED_ATTRIBUTE.into()));
    }
    Ok(())
}
const NOT_VERIFIABLE: &str = "Invalid attribute name. Only phone_number and email can be verified.";

/// The attributes a code can verify, with their flag, channel and code purpose.
fn contact(name: &str) -> Option<(&'static str, &'static str, Channel, CodePurpose)> {
    match name {
        "email" => Some(("email", "email_verified", Channel::Email, CodePurpose::VerifyEmail)),
        "phone_number" => Some((
            "phone_number",
            "phone_number_verified",
            Channel::Sms,
            CodePurpose::VerifyPhone,
        )),
        _ => None,
    }
}

fn auto_verified(pool: &UserPool, attr: &str) -> bool {
    let want = if attr == "email" {
        VerifiedAttributeType::Email
    } else {
        VerifiedAttributeType::PhoneNumber
    };
    pool.config
        .auto_verified_attributes
        .as_deref()
        .unwrap_or(&[])
        .contains(&want)
}

fn immutable(name: &str) -> DomainError {
    DomainError::InvalidParameter(format!(
        "{SCHEMA}{name}: Attribute cannot be updated. (changing an immutable attribute)"
    ))
}

/// Checks that attributes may be removed: not `sub`, nothing immutable, nothing required.
fn check_deletable(pool: &UserPool, names: &[String]) -> Result<()> {
    for name in names {
        if name == "sub" {
            return Err(immutable(name));
        }
        let schema = pool
            .config
            .schema_attributes
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|s| s.name.as_deref() == Some(name.as_str()));
        let Some(s) = schema else {
            // The same answer as writing an attribute the schema does not have.
            return Err(DomainError::InvalidParameter(format!(
                "{SCHEMA}Type for attribute {{{name}}} could not be determined"
            )));
        };
        if s.required == Some(true) {
            return Err(DomainError::InvalidParameter(format!(
                "{SCHEMA}{name}: The attribute is required"
            )));
        }
        if s.mutable == Some(false) {
            return Err(immutable(name));
        }
    }
    Ok(())
}

/// Removes attributes; an email or phone number takes its verified flag with it.
fn delete_attributes(user: &mut User, names: &[String]) {
    for name in names {
        user.set_attr(name, None);
        if let Some((_, flag, _, _)) = contact(name) {
            user.set_attr(flag, None);
        }
    }
}

/// A verification code to send after an update: (channel, attribute, destination, code).
type Pending = (Channel, &'static str, String, String);

impl Service {
    /// Applies an attribute update to `user`. `admin` callers may set the verified flags
    /// themselves; a user may not. Returns the codes to send (issued on `user` already).
    fn apply_update(
        &self,
        pool: &UserPool,
        user: &mut User,
        attrs: Vec<AttributeType>,
        admin: bool,
    ) -> Result<Vec<Pending>> {
        // AWS reads an empty value as "delete this attribute".
        let (sets, blanks): (Vec<AttributeType>, Vec<AttributeType>) = attrs
            .into_iter()
            .partition(|a| a.value.as_deref().is_some_and(|v| !v.is_empty()));
        let deletions: Vec<String> = blanks.into_iter().map(|a| a.name).collect();
        if !admin
            && sets
                .iter()
                .map(|a| &a.name)
                .chain(&deletions)
                .any(|n| n == "email_verified" || n == "phone_number_verified")
        {
            return Err(DomainError::NotAuthorized(UNAUTHORIZED_ATTRIBUTE.into()));
        }
        attributes::check_writable(pool, &sets, false)?;
        check_deletable(pool, &deletions)?;

        let mut changed = Vec::new();
        for a in &sets {
            if let Some((name, ..)) = contact(&a.name)
                && user.attr(name) != a.value.as_deref()
            {
                changed.push(name);
            }
        }
        let explicit = |flag: &str| sets.iter().find(|a| a.name == flag).and_then(|a| a.value.clone());
        for a in &sets {
            user.set_attr(&a.name, a.value.clone());
        }
        delete_attributes(user, &deletions);

        let mut pending = Vec::new();
        for name in changed {
            let Some((_, flag, channel, purpose)) = contact(name) else {
                continue;
            };
            let verified = explicit(flag);
            if verified.is_none() {
                user.set_attr(flag, Some("false".into()));
            }
            if verified.as_deref() != Some("true") && auto_verified(pool, name) {
                let dest = user.attr(name).unwrap_or_default().to_owned();
                let code = user.issue_code(purpose, self.clock.now());
                pending.push((channel, name, dest, code));
            }
        }
        Ok(pending)
    }

    /// Saves an updated user and records one message per code (a code's message rides in the
    /// same transaction as the save that first holds it). Returns the delivery details.
    async fn save_with_codes(
        &self,
        pool: &UserPool,
        key: &str,
        mut user: User,
        pending: Vec<Pending>,
        purpose: &str,
    ) -> Result<Vec<CodeDeliveryDetailsType>> {
        let mut details = Vec::new();
        let mut messages = Vec::new();
        for (channel, attr, dest, code) in pending {
            details.push(delivery_details(channel, attr, &dest));
            messages.push(delivery::code_message(pool, &user, channel, dest, &code, purpose));
        }
        let mut messages = messages.into_iter();
        user = self.save_user(pool, key, user, messages.next().as_ref()).await?;
        for m in messages {
            user = self.save_user(pool, key, user, Some(&m)).await?;
        }
        Ok(details)
    }

    pub async fn admin_update_user_attributes(
        &self,
        caller: &Caller,
        req: AdminUpdateUserAttributesRequest,
    ) -> Result<AdminUpdateUserAttributesResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        let pending = self.apply_update(&pool, &mut user, req.user_attributes, true)?;
        self.save_with_codes(&pool, &key, user, pending, "UPDATE_USER_ATTRIBUTE")
            .await?;
        Ok(AdminUpdateUserAttributesResponse {})
    }

    pub async fn update_user_attributes(
        &self,
        req: UpdateUserAttributesRequest,
    ) -> Result<UpdateUserAttributesResponse> {
        let (pool, key, mut user, claims) = self.authenticate(&req.access_token).await?;
        self.check_client_writes(&claims, &req.user_attributes).await?;
        let pending = self.apply_update(&pool, &mut user, req.user_attributes, false)?;
        let details = self
            .save_with_codes(&pool, &key, user, pending, "UPDATE_USER_ATTRIBUTE")
            .await?;
        Ok(UpdateUserAttributesResponse {
            code_delivery_details_list: if details.is_empty() { None } else { Some(details) },
        })
    }

    /// The app client that issued the token may restrict what its users write
    /// (`WriteAttributes`); with no list, every schema attribute but the verified flags is open.
    async fn check_client_writes(&self, claims: &crate::auth::tokens::Claims, attrs: &[AttributeType]) -> Result<()> {
        refuse_developer_only(attrs)?;
        let Some(client_id) = claims.get("client_id").and_then(|v| v.as_str()) else {
            return Ok(());
        };
        let Some(client) = self.store.get_client(client_id).await? else {
            return Ok(());
        };
        if let Some(allowed) = client.config.write_attributes.as_deref().filter(|w| !w.is_empty())
            && attrs.iter().any(|a| !allowed.contains(&a.name))
        {
            return Err(DomainError::NotAuthorized(UNAUTHORIZED_ATTRIBUTE.into()));
        }
        Ok(())
    }

    pub async fn admin_delete_user_attributes(
        &self,
        caller: &Caller,
        req: AdminDeleteUserAttributesRequest,
    ) -> Result<AdminDeleteUserAttributesResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        check_deletable(&pool, &req.user_attribute_names)?;
        delete_attributes(&mut user, &req.user_attribute_names);
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminDeleteUserAttributesResponse {})
    }

    pub async fn delete_user_attributes(
        &self,
        req: DeleteUserAttributesRequest,
    ) -> Result<DeleteUserAttributesResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        if req
            .user_attribute_names
            .iter()
            .any(|n| n == "email_verified" || n == "phone_number_verified")
        {
            return Err(DomainError::NotAuthorized(UNAUTHORIZED_ATTRIBUTE.into()));
        }
        check_deletable(&pool, &req.user_attribute_names)?;
        delete_attributes(&mut user, &req.user_attribute_names);
        self.save_user(&pool, &key, user, None).await?;
        Ok(DeleteUserAttributesResponse {})
    }

    pub async fn get_user_attribute_verification_code(
        &self,
        req: GetUserAttributeVerificationCodeRequest,
    ) -> Result<GetUserAttributeVerificationCodeResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        let (name, _, channel, purpose) =
            contact(&req.attribute_name).ok_or_else(|| DomainError::InvalidParameter(NOT_VERIFIABLE.into()))?;
        let Some(dest) = user.attr(name).map(str::to_owned) else {
            return Err(DomainError::InvalidParameter(
                if name == "email" {
                    "User does not have a valid registered email address"
                } else {
                    "User does not have a valid registered phone number"
                }
                .into(),
            ));
        };
        let code = user.issue_code(purpose, self.clock.now());
        let message = delivery::code_message(&pool, &user, channel, dest.clone(), &code, "VERIFY_USER_ATTRIBUTE");
        self.save_user(&pool, &key, user, Some(&message)).await?;
        Ok(GetUserAttributeVerificationCodeResponse {
            code_delivery_details: Some(delivery_details(channel, name, &dest)),
        })
    }

    pub async fn verify_user_attribute(&self, req: VerifyUserAttributeRequest) -> Result<VerifyUserAttributeResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        let (name, flag, _, purpose) =
            contact(&req.attribute_name).ok_or_else(|| DomainError::InvalidParameter(NOT_VERIFIABLE.into()))?;
        if let Err(e) = user.redeem_code(purpose, &req.code, self.clock.now()) {
            // Attempts are state: keep the count even though the call fails.
            let _ = self.save_user(&pool, &key, user, None).await;
            return Err(e);
        }
        if user.attr(name).is_some() {
            user.set_attr(flag, Some("true".into()));
        }
        self.save_user(&pool, &key, user, None).await?;
        Ok(VerifyUserAttributeResponse {})
    }
}
