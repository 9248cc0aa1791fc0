//! App client lifecycle.

use super::{Caller, Service};
use crate::client::{self, not_found_message};
use crate::error::{DomainError, Result};
use crate::store::StoreError;
use cmfa_wire::shapes::{
    CreateUserPoolClientRequest, CreateUserPoolClientResponse, DeleteUserPoolClientRequest,
    DescribeUserPoolClientRequest, DescribeUserPoolClientResponse, ListUserPoolClientsRequest,
    ListUserPoolClientsResponse, UpdateUserPoolClientRequest, UpdateUserPoolClientResponse, UserPoolClientDescription,
};

impl Service {
    pub async fn create_user_pool_client(
        &self,
        caller: &Caller,
        req: CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        client::check_attributes(
            &pool,
            req.read_attributes.as_deref(),
            req.write_attributes.as_deref(),
            false,
        )?;
        let c = client::create(client::new_client_id(), self.clock.now_millis(), req)?;
        match self.store.create_client(&c).await {
            Ok(()) => Ok(CreateUserPoolClientResponse {
                user_pool_client: Some(c.config),
            }),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(crate::pool::not_found_message(
                &c.pool_id,
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn describe_user_pool_client(
        &self,
        caller: &Caller,
        req: DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse> {
        self.load_pool(caller, &req.user_pool_id).await?;
        let c = self.load_client(&req.user_pool_id, &req.client_id).await?;
        Ok(DescribeUserPoolClientResponse {
            user_pool_client: Some(c.config.clone()),
        })
    }

    pub async fn update_user_pool_client(
        &self,
        caller: &Caller,
        req: UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let old = self.load_client(&req.user_pool_id, &req.client_id).await?;
        client::check_attributes(
            &pool,
            req.read_attributes.as_deref(),
            req.write_attributes.as_deref(),
            true,
        )?;
        let next = client::update(&old, self.clock.now_millis(), req)?;
        match self.store.update_client(&next).await {
            Ok(()) => Ok(UpdateUserPoolClientResponse {
                user_pool_client: Some(next.config),
            }),
            Err(StoreError::Conflict) => Err(DomainError::ConcurrentModification(
                "Only one request to update user pool client can be processed at a time.".into(),
            )),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(not_found_message(&next.client_id))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_user_pool_client(&self, caller: &Caller, req: DeleteUserPoolClientRequest) -> Result<()> {
        self.load_pool(caller, &req.user_pool_id).await?;
        self.load_client(&req.user_pool_id, &req.client_id).await?;
        match self.store.delete_client(&req.client_id).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(not_found_message(&req.client_id))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_user_pool_clients(
        &self,
        caller: &Caller,
        req: ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse> {
        self.load_pool(caller, &req.user_pool_id).await?;
        let limit = req.max_results.unwrap_or(60).clamp(1, 60) as usize;
        let mut clients = self
            .store
            .list_clients(&req.user_pool_id, req.next_token.as_deref(), limit + 1)
            .await?;
        let more = clients.len() > limit;
        clients.truncate(limit);
        Ok(ListUserPoolClientsResponse {
            next_token: if more {
                clients.last().map(|c| c.client_id.clone())
            } else {
                None
            },
            user_pool_clients: Some(
                clients
                    .iter()
                    .map(|c| UserPoolClientDescription {
                        client_id: Some(c.client_id.clone()),
                        user_pool_id: Some(c.pool_id.clone()),
                        client_name: c.config.client_name.clone(),
                    })
                    .collect(),
            ),
        })
    }
}
