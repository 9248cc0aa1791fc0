//! A pool's domains: a prefix domain (`<prefix>.auth.<region>.amazoncognito.com`) and a custom
//! domain (an FQDN with an ACM certificate ARN). Stored with the pool and shown by
//! DescribeUserPool (`Domain`, `CustomDomain`). No DNS, TLS or hosted UI is provisioned: the
//! domain matters here as the passkeys' relying party when no RelyingPartyId is set.

use super::UserPool;
use crate::error::{DomainError, Result};
use cmfa_wire::shapes::CustomDomainConfigType;
use serde::{Deserialize, Serialize};

/// One domain of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolDomain {
    /// The prefix, or the custom domain's FQDN.
    pub domain: String,
    /// Set for a custom domain.
    #[serde(default)]
    pub custom: Option<CustomDomainConfigType>,
    #[serde(default)]
    pub managed_login_version: Option<i32>,
}

impl PoolDomain {
    pub fn is_custom(&self) -> bool {
        self.custom.is_some()
    }

    /// The host name the domain serves on.
    pub fn fqdn(&self, region: &str) -> String {
        if self.is_custom() {
            self.domain.clone()
        } else {
            format!("{}.auth.{region}.amazoncognito.com", self.domain)
        }
    }

    /// A CloudFront distribution name for a custom domain (nothing is provisioned: a stable
    /// placeholder derived from the name, so clients that read it get a well-formed value).
    pub fn cloud_front(&self) -> Option<String> {
        use sha2::{Digest, Sha256};
        self.is_custom().then(|| {
            let h = Sha256::digest(self.domain.as_bytes());
            format!("d{}.cloudfront.net", &hex::encode(h)[..13])
        })
    }
}

/// Sets `Domain` / `CustomDomain` in the pool's description from its domains.
pub fn reflect(pool: &mut UserPool) {
    pool.config.domain = pool.domains.iter().find(|d| !d.is_custom()).map(|d| d.domain.clone());
    pool.config.custom_domain = pool.domains.iter().find(|d| d.is_custom()).map(|d| d.domain.clone());
}

/// The host the pool's passkeys fall back to without a RelyingPartyId: the custom domain, else
/// the prefix domain.
pub fn relying_party_host(pool: &UserPool) -> Option<String> {
    let region = pool.region();
    pool.domains
        .iter()
        .find(|d| d.is_custom())
        .or_else(|| pool.domains.first())
        .map(|d| d.fqdn(region))
}

/// Checks a new domain for the pool: a prefix without AWS's reserved words, a custom domain
/// that looks like an FQDN, and at most one of each kind.
pub fn check_new(pool: &UserPool, domain: &str, custom: bool) -> Result<()> {
    if pool.domains.iter().any(|d| d.is_custom() == custom) {
        return Err(DomainError::InvalidParameter(format!(
            "The user pool already has a {} domain.",
            if custom { "custom" } else { "prefix" }
        )));
    }
    if custom {
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(DomainError::InvalidParameter(
                "A custom domain must be a fully qualified domain name.".into(),
            ));
        }
    } else {
        if domain.contains('.') {
            return Err(DomainError::InvalidParameter(
                "A prefix domain cannot contain a period; give a custom domain a CustomDomainConfig.".into(),
            ));
        }
        for reserved in ["aws", "amazon", "cognito"] {
            if domain.contains(reserved) {
                return Err(DomainError::InvalidParameter(format!(
                    "Domain cannot contain reserved word: {reserved}"
                )));
            }
        }
    }
    Ok(())
}
