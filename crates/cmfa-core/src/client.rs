//! App clients: AWS's defaults, validity ranges and auth-flow rules, as pure functions.

use crate::error::{DomainError, Result};
use cmfa_wire::shapes::{
    CreateUserPoolClientRequest, ExplicitAuthFlowsType, PreventUserExistenceErrorTypes, TimeUnitsType,
    TokenValidityUnitsType, UpdateUserPoolClientRequest, UserPoolClientType,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

pub const INVALID_VALIDITY: &str = "Invalid range for token validity.";
pub const MIXED_FLOWS: &str = "Cannot mix legacy ExplicitAuthFlows (ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH) with ALLOW_ values.";

/// One app client as stored. `config` is what DescribeUserPoolClient returns, secret included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppClient {
    pub pool_id: String,
    pub client_id: String,
    pub version: u64,
    pub config: UserPoolClientType,
}

/// The message for an unknown client id.
pub fn not_found_message(client_id: &str) -> String {
    format!("User pool client {client_id} does not exist.")
}

const ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_string(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ID_CHARS[rng.random_range(0..ID_CHARS.len())] as char)
        .collect()
}

/// A client id like AWS's: 26 lower-case letters and digits.
pub fn new_client_id() -> String {
    random_string(26)
}

/// A client secret like AWS's: 51 lower-case letters and digits.
pub fn new_client_secret() -> String {
    random_string(51)
}

fn seconds(value: i32, unit: TimeUnitsType) -> i64 {
    let v = value as i64;
    match unit {
        TimeUnitsType::Seconds => v,
        TimeUnitsType::Minutes => v * 60,
        TimeUnitsType::Hours => v * 3600,
        TimeUnitsType::Days => v * 86400,
    }
}

/// Token lifetimes in seconds, resolved from the client's values and units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access: i64,
    pub id: i64,
    pub refresh: i64,
    /// How long an auth session (and the codes in it) stays valid.
    pub session: i64,
}

/// The lifetimes a client's configuration gives (AWS defaults: 60 min, 60 min, 30 days, 3 min).
pub fn lifetimes(c: &UserPoolClientType) -> Lifetimes {
    let units = c.token_validity_units.clone().unwrap_or_default();
    Lifetimes {
        access: seconds(
            c.access_token_validity.unwrap_or(60),
            units.access_token.unwrap_or(TimeUnitsType::Minutes),
        ),
        id: seconds(
            c.id_token_validity.unwrap_or(60),
            units.id_token.unwrap_or(TimeUnitsType::Minutes),
        ),
        refresh: seconds(
            c.refresh_token_validity.unwrap_or(30),
            units.refresh_token.unwrap_or(TimeUnitsType::Days),
        ),
        session: c.auth_session_validity.unwrap_or(3) as i64 * 60,
    }
}

fn check(c: &UserPoolClientType) -> Result<()> {
    let l = lifetimes(c);
    let token_ok = |s: i64| (300..=86_400).contains(&s);
    if !token_ok(l.access) || !token_ok(l.id) || !(3_600..=315_360_000).contains(&l.refresh) {
        return Err(DomainError::InvalidParameter(INVALID_VALIDITY.into()));
    }
    if let Some(flows) = &c.explicit_auth_flows {
        let legacy = |f: &ExplicitAuthFlowsType| {
            matches!(
                f,
                ExplicitAuthFlowsType::AdminNoSrpAuth
                    | ExplicitAuthFlowsType::CustomAuthFlowOnly
                    | ExplicitAuthFlowsType::UserPasswordAuth
            )
        };
        if flows.iter().any(legacy) && flows.iter().any(|f| !legacy(f)) {
            return Err(DomainError::InvalidParameter(MIXED_FLOWS.into()));
        }
    }
    Ok(())
}

fn default_flows() -> Vec<ExplicitAuthFlowsType> {
    vec![
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ExplicitAuthFlowsType::AllowUserSrpAuth,
        ExplicitAuthFlowsType::AllowCustomAuth,
    ]
}

fn default_units() -> TokenValidityUnitsType {
    TokenValidityUnitsType {
        access_token: Some(TimeUnitsType::Minutes),
        id_token: Some(TimeUnitsType::Minutes),
        refresh_token: Some(TimeUnitsType::Days),
    }
}

fn fill_units(u: Option<TokenValidityUnitsType>) -> TokenValidityUnitsType {
    let d = default_units();
    let u = u.unwrap_or_default();
    TokenValidityUnitsType {
        access_token: u.access_token.or(d.access_token),
        id_token: u.id_token.or(d.id_token),
        refresh_token: u.refresh_token.or(d.refresh_token),
    }
}

/// ReadAttributes and WriteAttributes may only name attributes of the pool's schema (AWS:
/// `Invalid read attributes specified while creating a client`, `... while updating ...`).
pub fn check_attributes(
    pool: &crate::pool::UserPool,
    read: Option<&[String]>,
    write: Option<&[String]>,
    updating: bool,
) -> Result<()> {
    let schema = pool.config.schema_attributes.as_deref().unwrap_or(&[]);
    let known = |n: &String| schema.iter().any(|a| a.name.as_deref() == Some(n.as_str()));
    let verb = if updating { "updating" } else { "creating" };
    for (kind, names) in [("read", read), ("write", write)] {
        if !names.unwrap_or(&[]).iter().all(known) {
            return Err(DomainError::InvalidParameter(format!(
                "Invalid {kind} attributes specified while {verb} a client"
            )));
        }
    }
    Ok(())
}

/// Builds a client from CreateUserPoolClient with AWS's defaults.
pub fn create(client_id: String, now: f64, req: CreateUserPoolClientRequest) -> Result<AppClient> {
    let secret = match (req.client_secret, req.generate_secret.unwrap_or(false)) {
        (Some(s), _) => Some(s),
        (None, true) => Some(new_client_secret()),
        (None, false) => None,
    };
    let config = UserPoolClientType {
        user_pool_id: Some(req.user_pool_id.clone()),
        client_name: Some(req.client_name),
        client_id: Some(client_id.clone()),
        client_secret: secret,
        client_secret_arn: None,
        last_modified_date: Some(now),
        creation_date: Some(now),
        refresh_token_validity: Some(req.refresh_token_validity.unwrap_or(30)),
        access_token_validity: Some(req.access_token_validity.unwrap_or(60)),
        id_token_validity: Some(req.id_token_validity.unwrap_or(60)),
        token_validity_units: Some(fill_units(req.token_validity_units)),
        read_attributes: req.read_attributes,
        write_attributes: req.write_attributes,
        explicit_auth_flows: Some(req.explicit_auth_flows.unwrap_or_else(default_flows)),
        supported_identity_providers: req.supported_identity_providers,
        callback_urls: req.callback_urls,
        logout_urls: req.logout_urls,
        default_redirect_uri: req.default_redirect_uri,
        allowed_oauth_flows: req.allowed_oauth_flows,
        allowed_oauth_scopes: req.allowed_oauth_scopes,
        allowed_oauth_flows_user_pool_client: Some(req.allowed_oauth_flows_user_pool_client.unwrap_or(false)),
        analytics_configuration: req.analytics_configuration,
        prevent_user_existence_errors: Some(
            req.prevent_user_existence_errors
                .unwrap_or(PreventUserExistenceErrorTypes::Legacy),
        ),
        enable_token_revocation: Some(req.enable_token_revocation.unwrap_or(true)),
        enable_propagate_additional_user_context_data: Some(
            req.enable_propagate_additional_user_context_data.unwrap_or(false),
        ),
        auth_session_validity: Some(req.auth_session_validity.unwrap_or(3)),
        refresh_token_rotation: req.refresh_token_rotation,
        client_type: None,
    };
    check(&config)?;
    Ok(AppClient {
        pool_id: req.user_pool_id,
        client_id,
        version: 1,
        config,
    })
}

/// Applies UpdateUserPoolClient: like AWS, members left out return to their defaults; the
/// name, id and secret are kept.
pub fn update(old: &AppClient, now: f64, req: UpdateUserPoolClientRequest) -> Result<AppClient> {
    let mut next = old.clone();
    let c = &mut next.config;
    if let Some(n) = req.client_name {
        c.client_name = Some(n);
    }
    c.last_modified_date = Some(now);
    c.refresh_token_validity = Some(req.refresh_token_validity.unwrap_or(30));
    c.access_token_validity = Some(req.access_token_validity.unwrap_or(60));
    c.id_token_validity = Some(req.id_token_validity.unwrap_or(60));
    c.token_validity_units = Some(fill_units(req.token_validity_units));
    c.read_attributes = req.read_attributes;
    c.write_attributes = req.write_attributes;
    c.explicit_auth_flows = Some(req.explicit_auth_flows.unwrap_or_else(default_flows));
    c.supported_identity_providers = req.supported_identity_providers;
    c.callback_urls = req.callback_urls;
    c.logout_urls = req.logout_urls;
    c.default_redirect_uri = req.default_redirect_uri;
    c.allowed_oauth_flows = req.allowed_oauth_flows;
    c.allowed_oauth_scopes = req.allowed_oauth_scopes;
    c.allowed_oauth_flows_user_pool_client = Some(req.allowed_oauth_flows_user_pool_client.unwrap_or(false));
    c.analytics_configuration = req.analytics_configuration;
    c.prevent_user_existence_errors = Some(
        req.prevent_user_existence_errors
            .unwrap_or(PreventUserExistenceErrorTypes::Legacy),
    );
    c.enable_token_revocation = Some(req.enable_token_revocation.unwrap_or(true));
    c.enable_propagate_additional_user_context_data =
        Some(req.enable_propagate_additional_user_context_data.unwrap_or(false));
    c.auth_session_validity = Some(req.auth_session_validity.unwrap_or(3));
    c.refresh_token_rotation = req.refresh_token_rotation;
    check(c)?;
    next.version = old.version + 1;
    Ok(next)
}

/// Whether the client allows an auth flow (legacy names count for their ALLOW_ twins).
pub fn allows(c: &UserPoolClientType, flow: ExplicitAuthFlowsType) -> bool {
    let flows = c.explicit_auth_flows.as_deref().unwrap_or(&[]);
    flows.contains(&flow)
        || match flow {
            ExplicitAuthFlowsType::AllowUserPasswordAuth => flows.contains(&ExplicitAuthFlowsType::UserPasswordAuth),
            ExplicitAuthFlowsType::AllowAdminUserPasswordAuth => flows.contains(&ExplicitAuthFlowsType::AdminNoSrpAuth),
            ExplicitAuthFlowsType::AllowCustomAuth => flows.contains(&ExplicitAuthFlowsType::CustomAuthFlowOnly),
            // Legacy-only clients keep SRP and refresh, as AWS documents.
            ExplicitAuthFlowsType::AllowUserSrpAuth | ExplicitAuthFlowsType::AllowRefreshTokenAuth => {
                flows.iter().all(|f| {
                    matches!(
                        f,
                        ExplicitAuthFlowsType::AdminNoSrpAuth
                            | ExplicitAuthFlowsType::CustomAuthFlowOnly
                            | ExplicitAuthFlowsType::UserPasswordAuth
                    )
                }) && !flows.is_empty()
            }
            _ => false,
        }
}

/// SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id)).
pub fn check_secret_hash(client: &AppClient, username: &str, given: Option<&str>) -> Result<()> {
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

/// Whether the client hides which users exist (`PreventUserExistenceErrors: ENABLED`).
pub fn hides_existence(client: &AppClient) -> bool {
    client.config.prevent_user_existence_errors == Some(PreventUserExistenceErrorTypes::Enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> CreateUserPoolClientRequest {
        CreateUserPoolClientRequest {
            user_pool_id: "us-east-1_a".into(),
            client_name: "c".into(),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_match_aws() {
        let c = create(new_client_id(), 1.0, req()).unwrap();
        assert_eq!(c.client_id.len(), 26);
        assert!(c.config.client_secret.is_none());
        assert_eq!(
            lifetimes(&c.config),
            Lifetimes {
                access: 3600,
                id: 3600,
                refresh: 30 * 86400,
                session: 180
            }
        );
        assert!(allows(&c.config, ExplicitAuthFlowsType::AllowUserSrpAuth));
        assert!(!allows(&c.config, ExplicitAuthFlowsType::AllowUserPasswordAuth));
    }

    #[test]
    fn secrets_and_ranges() {
        let c = create(
            new_client_id(),
            1.0,
            CreateUserPoolClientRequest {
                generate_secret: Some(true),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(c.config.client_secret.as_deref().map(str::len), Some(51));
        let bad = CreateUserPoolClientRequest {
            access_token_validity: Some(2),
            ..req()
        };
        assert_eq!(
            create(new_client_id(), 1.0, bad),
            Err(DomainError::InvalidParameter(INVALID_VALIDITY.into()))
        );
        let mixed = CreateUserPoolClientRequest {
            explicit_auth_flows: Some(vec![
                ExplicitAuthFlowsType::UserPasswordAuth,
                ExplicitAuthFlowsType::AllowUserSrpAuth,
            ]),
            ..req()
        };
        assert!(create(new_client_id(), 1.0, mixed).is_err());
    }
}
