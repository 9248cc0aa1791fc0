//! Domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain (the rules are [`crate::pool::domains`]'s). Nothing is provisioned.
//!
//! A domain is unique across pools. It is found by looking through the pools, which is cheap for
//! the pool counts this server sees; two processes creating the same domain at the same instant
//! could both succeed (documented).

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::pool::UserPool;
use crate::pool::domains::{PoolDomain, check_new, reflect};
use cmfa_wire::shapes::{
    CreateUserPoolDomainRequest, CreateUserPoolDomainResponse, DeleteUserPoolDomainRequest,
    DeleteUserPoolDomainResponse, DescribeUserPoolDomainRequest, DescribeUserPoolDomainResponse, DomainDescriptionType,
    DomainStatusType, UpdateUserPoolDomainRequest, UpdateUserPoolDomainResponse,
};
use std::sync::Arc;

impl Service {
    /// The pool holding `domain`, if any.
    async fn pool_with_domain(&self, domain: &str) -> Result<Option<Arc<UserPool>>> {
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list_pools(after.as_deref(), 60).await?;
            if let Some(p) = page.iter().find(|p| p.domains.iter().any(|d| d.domain == domain)) {
                return Ok(Some(p.clone()));
            }
            match page.last() {
                Some(last) if page.len() == 60 => after = Some(last.id.clone()),
                _ => return Ok(None),
            }
        }
    }

    pub async fn create_user_pool_domain(
        &self,
        caller: &Caller,
        req: CreateUserPoolDomainRequest,
    ) -> Result<CreateUserPoolDomainResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        check_new(&pool, &req.domain, req.custom_domain_config.is_some())?;
        if self.pool_with_domain(&req.domain).await?.is_some() {
            return Err(DomainError::InvalidParameter(
                "Domain already associated with another user pool.".into(),
            ));
        }
        let d = PoolDomain {
            domain: req.domain,
            custom: req.custom_domain_config,
            managed_login_version: Some(req.managed_login_version.unwrap_or(1)),
        };
        let mut next = (*pool).clone();
        next.domains.push(d.clone());
        reflect(&mut next);
        next.version = pool.version + 1;
        self.save_pool(&pool.id, &next).await?;
        Ok(CreateUserPoolDomainResponse {
            managed_login_version: d.managed_login_version,
            cloud_front_domain: d.cloud_front(),
            routing: None,
        })
    }

    /// An unknown domain answers an empty description, as AWS's does.
    pub async fn describe_user_pool_domain(
        &self,
        req: DescribeUserPoolDomainRequest,
    ) -> Result<DescribeUserPoolDomainResponse> {
        let Some(pool) = self.pool_with_domain(&req.domain).await? else {
            return Ok(DescribeUserPoolDomainResponse {
                domain_description: Some(DomainDescriptionType::default()),
            });
        };
        let d = pool
            .domains
            .iter()
            .find(|d| d.domain == req.domain)
            .expect("found by its domain");
        Ok(DescribeUserPoolDomainResponse {
            domain_description: Some(DomainDescriptionType {
                user_pool_id: Some(pool.id.clone()),
                aws_account_id: Some(self.settings.account_id.clone()),
                domain: Some(d.domain.clone()),
                cloud_front_distribution: d.cloud_front(),
                status: Some(DomainStatusType::Active),
                custom_domain_config: d.custom.clone(),
                managed_login_version: d.managed_login_version,
                ..DomainDescriptionType::default()
            }),
        })
    }

    pub async fn update_user_pool_domain(
        &self,
        caller: &Caller,
        req: UpdateUserPoolDomainRequest,
    ) -> Result<UpdateUserPoolDomainResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let mut next = (*pool).clone();
        let Some(d) = next.domains.iter_mut().find(|d| d.domain == req.domain) else {
            return Err(DomainError::InvalidParameter(format!(
                "The domain {} is not a domain of the user pool.",
                req.domain
            )));
        };
        if let Some(c) = req.custom_domain_config {
            if !d.is_custom() {
                return Err(DomainError::InvalidParameter(
                    "A prefix domain has no CustomDomainConfig.".into(),
                ));
            }
            d.custom = Some(c);
        }
        if let Some(v) = req.managed_login_version {
            d.managed_login_version = Some(v);
        }
        let out = UpdateUserPoolDomainResponse {
            managed_login_version: d.managed_login_version,
            cloud_front_domain: d.cloud_front(),
            routing: None,
        };
        next.version = pool.version + 1;
        self.save_pool(&pool.id, &next).await?;
        Ok(out)
    }

    pub async fn delete_user_pool_domain(
        &self,
        caller: &Caller,
        req: DeleteUserPoolDomainRequest,
    ) -> Result<DeleteUserPoolDomainResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let mut next = (*pool).clone();
        let before = next.domains.len();
        next.domains.retain(|d| d.domain != req.domain);
        if next.domains.len() == before {
            return Err(DomainError::InvalidParameter(format!(
                "The domain {} is not a domain of the user pool.",
                req.domain
            )));
        }
        reflect(&mut next);
        next.version = pool.version + 1;
        self.save_pool(&pool.id, &next).await?;
        Ok(DeleteUserPoolDomainResponse {})
    }
}
