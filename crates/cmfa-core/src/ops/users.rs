//! Users: administrator-created users, reading (GetUser, AdminGetUser, ListUsers), enabling and
//! disabling, and deleting (AdminDeleteUser, DeleteUser).

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::messages::{USER_NOT_FOUND, USERNAME_EXISTS};
use crate::outbound::{Channel, OutboundMessage};
use crate::store::{StoreError, UserFilter};
use crate::user::delivery;
use crate::user::password::{check_policy, temporary_password};
use crate::user::{attributes, user_type, username_key};
use cmfa_wire::shapes::{
    AdminCreateUserRequest, AdminCreateUserResponse, AdminDeleteUserRequest, AdminDisableUserRequest,
    AdminDisableUserResponse, AdminEnableUserRequest, AdminEnableUserResponse, AdminGetUserRequest,
    AdminGetUserResponse, DeleteUserRequest, DeliveryMediumType, GetUserRequest, GetUserResponse, ListUsersRequest,
    ListUsersResponse, MessageActionType, UserStatusType,
};

/// AdminCreateUser's answer for a taken username (SignUp says [`USERNAME_EXISTS`]).
const ACCOUNT_EXISTS: &str = "User account already exists";

impl Service {
    pub async fn admin_create_user(
        &self,
        caller: &Caller,
        req: AdminCreateUserRequest,
    ) -> Result<AdminCreateUserResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let attrs = req.user_attributes.clone().unwrap_or_default();
        attributes::check_writable(&pool, &attrs, true)?;
        let policy = pool.password_policy();
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

    pub async fn get_user(&self, req: GetUserRequest) -> Result<GetUserResponse> {
        let (_, _, u, _) = self.authenticate(&req.access_token).await?;
        let (mfa_options, preferred_mfa_setting, user_mfa_setting_list) = Self::user_mfa_fields(&u);
        let t = user_type(&u);
        Ok(GetUserResponse {
            username: u.username,
            user_attributes: t.attributes.unwrap_or_default(),
            mfa_options,
            preferred_mfa_setting,
            user_mfa_setting_list,
        })
    }

    pub async fn delete_user(&self, req: DeleteUserRequest) -> Result<()> {
        let (pool, key, _, _) = self.authenticate(&req.access_token).await?;
        match self.store.delete_user(&pool.id, &key).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::UserNotFound(USER_NOT_FOUND.into())),
            Err(e) => Err(e.into()),
        }
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
