//! User pool lifecycle: create, describe, update, delete, list.

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::pool::{CONCURRENT_UPDATE_MESSAGE, UserPool, not_found_message, rules};
use crate::store::StoreError;
use cmfa_wire::shapes::{
    CreateUserPoolRequest, CreateUserPoolResponse, DeleteUserPoolRequest, DeletionProtectionType,
    DescribeUserPoolRequest, DescribeUserPoolResponse, ListUserPoolsRequest, ListUserPoolsResponse,
    UpdateUserPoolRequest, UpdateUserPoolResponse, UserPoolDescriptionType, UserPoolType,
};

/// The pool as CreateUserPool and DescribeUserPool show it, with the values computed on read:
/// `EstimatedNumberOfUsers` is the pool's user count.
fn describe(pool: &UserPool, users: u64) -> UserPoolType {
    let mut c = pool.config.clone();
    c.estimated_number_of_users = Some(i32::try_from(users).unwrap_or(i32::MAX));
    c
}

/// Tokens are the last pool id of the previous page; anything else never came from us.
fn looks_like_pool_id(t: &str) -> bool {
    match t.split_once('_') {
        Some((region, rest)) => {
            !region.is_empty()
                && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !rest.is_empty()
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

impl Service {
    /// Creates a pool in the caller's region with AWS's defaults.
    pub async fn create_user_pool(
        &self,
        caller: &Caller,
        req: CreateUserPoolRequest,
    ) -> Result<CreateUserPoolResponse> {
        let now = self.clock.now_millis();
        for _ in 0..3 {
            let id = crate::ids::new_user_pool_id(&caller.region);
            let arn = format!(
                "arn:aws:cognito-idp:{}:{}:userpool/{}",
                caller.region, self.settings.account_id, id
            );
            let pool = rules::create(id, arn, now, req.clone())?;
            match self.store.create_pool(&pool).await {
                Ok(()) => {
                    return Ok(CreateUserPoolResponse {
                        user_pool: Some(describe(&pool, 0)),
                    });
                }
                // A 62^9 id space makes a clash all but impossible; try a fresh id anyway.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Internal("could not allocate a unique user pool id".into()))
    }

    /// The whole pool.
    pub async fn describe_user_pool(
        &self,
        caller: &Caller,
        req: DescribeUserPoolRequest,
    ) -> Result<DescribeUserPoolResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let users = self.store.count_users(&pool.id).await?;
        Ok(DescribeUserPoolResponse {
            user_pool: Some(describe(&pool, users)),
        })
    }

    /// Updates a pool with AWS's reset-what-is-omitted semantics (see [`rules::update`]).
    pub async fn update_user_pool(
        &self,
        caller: &Caller,
        req: UpdateUserPoolRequest,
    ) -> Result<UpdateUserPoolResponse> {
        let id = req.user_pool_id.clone();
        let pool = self.load_pool(caller, &id).await?;
        let mut next = rules::update(&pool, self.clock.now_millis(), req)?;
        next.version = pool.version + 1;
        // UpdateUserPool has no domain members: the domains stay as they are.
        next.domains = pool.domains.clone();
        crate::pool::domains::reflect(&mut next);
        self.save_pool(&id, &next).await?;
        Ok(UpdateUserPoolResponse {})
    }

    /// Saves a changed pool, mapping a lost race and a deleted pool to AWS's errors.
    pub(crate) async fn save_pool(&self, id: &str, next: &UserPool) -> Result<()> {
        match self.store.update_pool(next).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => Err(DomainError::ConcurrentModification(CONCURRENT_UPDATE_MESSAGE.into())),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(not_found_message(id))),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a pool unless deletion protection is on.
    pub async fn delete_user_pool(&self, caller: &Caller, req: DeleteUserPoolRequest) -> Result<()> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        if pool.config.deletion_protection == Some(DeletionProtectionType::Active) {
            return Err(DomainError::InvalidParameter(rules::DELETION_PROTECTED.into()));
        }
        match self.store.delete_pool(&req.user_pool_id).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(not_found_message(&req.user_pool_id))),
            Err(e) => Err(e.into()),
        }
    }

    /// Pools in id order, `MaxResults` at a time; `NextToken` is the last id returned.
    pub async fn list_user_pools(&self, caller: &Caller, req: ListUserPoolsRequest) -> Result<ListUserPoolsResponse> {
        let limit = req.max_results.clamp(1, 60) as usize;
        if let Some(t) = req.next_token.as_deref()
            && !looks_like_pool_id(t)
        {
            return Err(DomainError::InvalidParameter("Invalid NextToken.".into()));
        }
        // Pool ids start with their region, so the caller's pools are one contiguous id range.
        let prefix = format!("{}_", caller.region);
        let start = match req.next_token.as_deref() {
            Some(t) if t.starts_with(&prefix) => t,
            Some(_) => return Err(DomainError::InvalidParameter("Invalid NextToken.".into())),
            None => prefix.as_str(),
        };
        let mut pools = self.store.list_pools(Some(start), limit + 1).await?;
        pools.retain(|p| p.id.starts_with(&prefix));
        let more = pools.len() > limit;
        pools.truncate(limit);
        let next_token = if more { pools.last().map(|p| p.id.clone()) } else { None };
        Ok(ListUserPoolsResponse {
            user_pools: Some(
                pools
                    .iter()
                    .map(|p| UserPoolDescriptionType {
                        id: Some(p.id.clone()),
                        name: p.config.name.clone(),
                        lambda_config: p.config.lambda_config.clone(),
                        status: None,
                        last_modified_date: p.config.last_modified_date,
                        creation_date: p.config.creation_date,
                        replica_regions: None,
                    })
                    .collect(),
            ),
            next_token,
        })
    }
}
