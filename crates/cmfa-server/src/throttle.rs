//! Request-rate quotas, off by default (`--throttle aws`): AWS's operation categories and their
//! default rates (reference §7.1), per region as AWS applies them per account and region, the
//! 5-per-second per-pool limit of the pool-resource and pool-client categories, and about 10 per
//! second against one user (admin operations that name a `Username`). Past a limit the answer is
//! `TooManyRequestsException` `Rate exceeded` (HTTP 400), which the SDKs retry.
//!
//! Token buckets that refill at the rate and hold one second's worth, behind one mutex: a
//! lookup and a little arithmetic per request. Every rate can be overridden by category name.

use cmfa_wire::{ErrorCode, Operation};
use std::collections::HashMap;
use std::sync::Mutex;

/// AWS's answer when a quota is exceeded.
pub const RATE_EXCEEDED: &str = "Rate exceeded";

/// The categories, with AWS's default requests per second.
const CATEGORIES: &[(&str, f64)] = &[
    ("UserAuthentication", 120.0),
    ("UserCreation", 50.0),
    ("UserAccountRecovery", 30.0),
    ("UserRead", 120.0),
    ("UserUpdate", 25.0),
    ("UserToken", 120.0),
    ("UserResourceRead", 50.0),
    ("UserResourceUpdate", 25.0),
    ("UserList", 30.0),
    ("UserPoolRead", 15.0),
    ("UserPoolUpdate", 15.0),
    ("UserPoolResourceRead", 20.0),
    ("UserPoolResourceUpdate", 15.0),
    ("UserPoolClientRead", 15.0),
    ("UserPoolClientUpdate", 15.0),
];

/// The category of an operation (those AWS's page lists, and the rest by their kind).
pub fn category(op: Operation) -> &'static str {
    use Operation as O;
    match op {
        O::InitiateAuth | O::RespondToAuthChallenge | O::AdminInitiateAuth | O::AdminRespondToAuthChallenge => {
            "UserAuthentication"
        }
        O::SignUp | O::AdminCreateUser | O::ConfirmSignUp | O::AdminConfirmSignUp | O::ResendConfirmationCode => {
            "UserCreation"
        }
        O::ForgotPassword
        | O::ConfirmForgotPassword
        | O::ChangePassword
        | O::AdminResetUserPassword
        | O::AdminSetUserPassword => "UserAccountRecovery",
        O::GetUser | O::AdminGetUser | O::GetUserAuthFactors | O::AdminGetUserAuthFactors => "UserRead",
        O::UpdateUserAttributes
        | O::AdminUpdateUserAttributes
        | O::DeleteUserAttributes
        | O::AdminDeleteUserAttributes
        | O::GetUserAttributeVerificationCode
        | O::VerifyUserAttribute
        | O::AdminDisableUser
        | O::AdminEnableUser
        | O::AdminDeleteUser
        | O::DeleteUser
        | O::AdminAddUserToGroup
        | O::AdminRemoveUserFromGroup => "UserUpdate",
        O::RevokeToken | O::GlobalSignOut | O::AdminUserGlobalSignOut => "UserToken",
        O::AdminListGroupsForUser | O::ListWebAuthnCredentials => "UserResourceRead",
        O::AssociateSoftwareToken
        | O::VerifySoftwareToken
        | O::SetUserMFAPreference
        | O::AdminSetUserMFAPreference
        | O::SetUserSettings
        | O::AdminSetUserSettings
        | O::AdminDeleteSoftwareToken
        | O::StartWebAuthnRegistration
        | O::CompleteWebAuthnRegistration
        | O::DeleteWebAuthnCredential => "UserResourceUpdate",
        O::ListUsers | O::ListUsersInGroup => "UserList",
        O::DescribeUserPool | O::ListUserPools => "UserPoolRead",
        O::CreateUserPool | O::UpdateUserPool | O::DeleteUserPool => "UserPoolUpdate",
        O::GetUserPoolMfaConfig | O::DescribeUserPoolDomain | O::GetGroup | O::ListGroups => "UserPoolResourceRead",
        O::DescribeUserPoolClient | O::ListUserPoolClients => "UserPoolClientRead",
        O::CreateUserPoolClient | O::UpdateUserPoolClient | O::DeleteUserPoolClient => "UserPoolClientUpdate",
        _ => "UserPoolResourceUpdate",
    }
}

fn per_pool(category: &str) -> bool {
    category.starts_with("UserPoolResource") || category.starts_with("UserPoolClient")
}

/// The quotas in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleSettings {
    /// Requests per second by category name (AWS's defaults, then the overrides).
    pub rates: HashMap<String, f64>,
    /// Per pool, for the pool-resource and pool-client categories.
    pub per_pool: f64,
    /// Per user, for operations that name one.
    pub per_user: f64,
}

impl ThrottleSettings {
    /// AWS's defaults with `overrides` (category name → requests per second) applied. Unknown
    /// category names are an error, so a typo does not silently leave a default in force.
    pub fn aws(overrides: &HashMap<String, f64>) -> Result<ThrottleSettings, String> {
        let mut rates: HashMap<String, f64> = CATEGORIES.iter().map(|(c, r)| ((*c).to_owned(), *r)).collect();
        for (name, rate) in overrides {
            match name.as_str() {
                "PerPool" | "PerUser" => {}
                n if rates.contains_key(n) => {}
                n => return Err(format!("unknown throttle category {n}")),
            }
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(format!("throttle rate for {name} must be positive"));
            }
            rates.insert(name.clone(), *rate);
        }
        Ok(ThrottleSettings {
            per_pool: rates.remove("PerPool").unwrap_or(5.0),
            per_user: rates.remove("PerUser").unwrap_or(10.0),
            rates,
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: f64,
}

/// The buckets. Off (`None` settings) costs one branch.
#[derive(Debug, Default)]
pub struct Throttle {
    settings: Option<ThrottleSettings>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    pub fn new(settings: Option<ThrottleSettings>) -> Throttle {
        Throttle {
            settings,
            buckets: Mutex::default(),
        }
    }

    /// Takes `cost` tokens from bucket `key` refilling at `rate`, if it has them.
    fn take(buckets: &mut HashMap<String, Bucket>, key: String, rate: f64, cost: f64, now: f64) -> bool {
        let b = buckets.entry(key).or_insert(Bucket { tokens: rate, at: now });
        b.tokens = (b.tokens + (now - b.at).max(0.0) * rate).min(rate.max(1.0));
        b.at = now;
        if b.tokens + 1e-9 >= cost {
            b.tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Whether a call of `op` in `region` (for `pool` and `user`, when the body names them) is
    /// within the quotas at `now` (seconds); the error to answer otherwise.
    pub fn check(
        &self,
        op: Operation,
        region: &str,
        pool: Option<&str>,
        user: Option<&str>,
        now: f64,
    ) -> Result<(), crate::ApiError> {
        let Some(s) = &self.settings else {
            return Ok(());
        };
        let cat = category(op);
        let rate = s.rates.get(cat).copied().unwrap_or(15.0);
        // RespondToAuthChallenge has three times the category's allowance (§7.1).
        let cost = if matches!(
            op,
            Operation::RespondToAuthChallenge | Operation::AdminRespondToAuthChallenge
        ) {
            1.0 / 3.0
        } else {
            1.0
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut ok = Self::take(&mut buckets, format!("{region}\u{0}{cat}"), rate, cost, now);
        if ok
            && per_pool(cat)
            && let Some(p) = pool
        {
            ok = Self::take(&mut buckets, format!("pool\u{0}{p}\u{0}{cat}"), s.per_pool, 1.0, now);
        }
        if ok && let (Some(p), Some(u)) = (pool, user) {
            ok = Self::take(&mut buckets, format!("user\u{0}{p}\u{0}{u}"), s.per_user, 1.0, now);
        }
        if ok {
            Ok(())
        } else {
            Err(crate::ApiError::new(ErrorCode::TooManyRequestsException, RATE_EXCEEDED))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws() -> Throttle {
        Throttle::new(Some(ThrottleSettings::aws(&HashMap::new()).unwrap()))
    }

    #[test]
    fn a_burst_above_the_rate_is_refused_and_the_bucket_refills() {
        let t = aws();
        let ok = (0..40)
            .filter(|_| {
                t.check(Operation::DescribeUserPool, "us-east-1", None, None, 100.0)
                    .is_ok()
            })
            .count();
        assert_eq!(ok, 15, "UserPoolRead: 15 per second");
        assert!(
            t.check(Operation::DescribeUserPool, "us-east-1", None, None, 100.0)
                .is_err()
        );
        assert!(
            t.check(Operation::DescribeUserPool, "eu-west-1", None, None, 100.0)
                .is_ok(),
            "per region"
        );
        assert!(
            t.check(Operation::DescribeUserPool, "us-east-1", None, None, 100.2)
                .is_ok(),
            "refilled"
        );
        assert!(
            t.check(Operation::ListUsers, "us-east-1", None, None, 100.2).is_ok(),
            "other category"
        );
    }

    #[test]
    fn per_pool_and_per_user_limits_and_the_respond_allowance() {
        let t = aws();
        let ok = (0..10)
            .filter(|_| {
                t.check(Operation::GetUserPoolMfaConfig, "r", Some("p1"), None, 5.0)
                    .is_ok()
            })
            .count();
        assert_eq!(ok, 5, "5 per second per pool");
        assert!(
            t.check(Operation::GetUserPoolMfaConfig, "r", Some("p2"), None, 5.0)
                .is_ok()
        );
        let ok = (0..20)
            .filter(|_| {
                t.check(Operation::AdminGetUser, "r", Some("p1"), Some("alice"), 5.0)
                    .is_ok()
            })
            .count();
        assert_eq!(ok, 10, "about 10 per second per user");
        let ok = (0..400)
            .filter(|_| t.check(Operation::RespondToAuthChallenge, "r", None, None, 5.0).is_ok())
            .count();
        assert_eq!(ok, 360, "three times UserAuthentication's 120");
        assert!(
            Throttle::default()
                .check(Operation::ListUsers, "r", None, None, 0.0)
                .is_ok(),
            "off"
        );
    }

    #[test]
    fn overrides_take_category_names_only() {
        let mut o = HashMap::from([("UserRead".to_owned(), 500.0), ("PerPool".to_owned(), 50.0)]);
        let s = ThrottleSettings::aws(&o).unwrap();
        assert_eq!((s.rates["UserRead"], s.per_pool, s.per_user), (500.0, 50.0, 10.0));
        o.insert("UserReed".into(), 1.0);
        assert!(ThrottleSettings::aws(&o).is_err());
        assert!(ThrottleSettings::aws(&HashMap::from([("UserRead".to_owned(), 0.0)])).is_err());
    }
}
