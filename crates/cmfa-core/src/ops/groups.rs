//! User pool groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups and the
//! memberships (AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser,
//! ListUsersInGroup), plus the groups a token is minted with.
//!
//! How memberships are stored, and why a user in no group signs in at no extra cost, is
//! explained in [`crate::group`]. Pages follow name order (groups) and username-key order
//! (members); a `NextToken` is the last name or key of the previous page.

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::group::{Group, NOT_FOUND};
use crate::messages::USER_NOT_FOUND;
use crate::store::StoreError;
use crate::user::User;
use crate::user::user_type;
use cmfa_wire::shapes::{
    AdminAddUserToGroupRequest, AdminListGroupsForUserRequest, AdminListGroupsForUserResponse,
    AdminRemoveUserFromGroupRequest, CreateGroupRequest, CreateGroupResponse, DeleteGroupRequest, GetGroupRequest,
    GetGroupResponse, ListGroupsRequest, ListGroupsResponse, ListUsersInGroupRequest, ListUsersInGroupResponse,
    UpdateGroupRequest, UpdateGroupResponse,
};

/// Groups a pool may have (AWS's default quota, "Groups per user pool").
const MAX_GROUPS_PER_POOL: u64 = 10_000;

/// Page size when `Limit` is absent or 0, and the largest one (`QueryLimitType` allows 0–60).
const PAGE: i32 = 60;

fn page_size(limit: Option<i32>) -> usize {
    match limit {
        Some(n) if n > 0 => n.min(PAGE) as usize,
        _ => PAGE as usize,
    }
}

fn group_not_found() -> DomainError {
    DomainError::ResourceNotFound(NOT_FOUND.into())
}

/// Splits `limit + 1` rows into a page and the token of the next one.
fn paginate<T>(mut rows: Vec<T>, limit: usize, token: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(token) } else { None };
    (rows, next)
}

impl Service {
    async fn require_group(&self, pool_id: &str, name: &str) -> Result<Group> {
        self.store.get_group(pool_id, name).await?.ok_or_else(group_not_found)
    }

    /// The user's groups, for the claims of the tokens it is being issued. A user in no group
    /// costs no lookup at all: its group names came with the user record.
    pub(crate) async fn token_groups(&self, user: &User) -> Result<Vec<Group>> {
        if user.groups.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.get_groups(&user.pool_id, &user.groups).await?)
    }

    pub async fn create_group(&self, caller: &Caller, req: CreateGroupRequest) -> Result<CreateGroupResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        if self.store.count_groups(&pool.id).await? >= MAX_GROUPS_PER_POOL {
            return Err(DomainError::LimitExceeded(format!(
                "The user pool has reached its limit of {MAX_GROUPS_PER_POOL} groups."
            )));
        }
        let now = self.clock.now_millis();
        let group = Group {
            pool_id: pool.id.clone(),
            name: req.group_name,
            description: req.description,
            role_arn: req.role_arn,
            precedence: req.precedence,
            created: now,
            modified: now,
        };
        match self.store.create_group(&group).await {
            Ok(()) => Ok(CreateGroupResponse {
                group: Some(group.to_wire()),
            }),
            Err(StoreError::Conflict) => Err(DomainError::GroupExists(format!(
                "A group with the name {} already exists.",
                group.name
            ))),
            Err(StoreError::NotFound) => Err(DomainError::ResourceNotFound(crate::pool::not_found_message(&pool.id))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_group(&self, caller: &Caller, req: GetGroupRequest) -> Result<GetGroupResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let group = self.require_group(&pool.id, &req.group_name).await?;
        Ok(GetGroupResponse {
            group: Some(group.to_wire()),
        })
    }

    /// Changes what the request names and keeps the rest: UpdateGroup has no reset-what-is-
    /// omitted rule (unlike UpdateUserPool).
    pub async fn update_group(&self, caller: &Caller, req: UpdateGroupRequest) -> Result<UpdateGroupResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let mut group = self.require_group(&pool.id, &req.group_name).await?;
        if let Some(d) = req.description {
            group.description = Some(d);
        }
        if let Some(r) = req.role_arn {
            group.role_arn = Some(r);
        }
        if let Some(p) = req.precedence {
            group.precedence = Some(p);
        }
        group.modified = self.clock.now_millis();
        match self.store.update_group(&group).await {
            Ok(()) => Ok(UpdateGroupResponse {
                group: Some(group.to_wire()),
            }),
            Err(StoreError::NotFound) => Err(group_not_found()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the group and every membership in it; members' next tokens leave it out.
    pub async fn delete_group(&self, caller: &Caller, req: DeleteGroupRequest) -> Result<()> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        match self.store.delete_group(&pool.id, &req.group_name).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(group_not_found()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_groups(&self, caller: &Caller, req: ListGroupsRequest) -> Result<ListGroupsResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let limit = page_size(req.limit);
        let rows = self
            .store
            .list_groups(&pool.id, req.next_token.as_deref(), limit + 1)
            .await?;
        let (groups, next_token) = paginate(rows, limit, |g| g.name.clone());
        Ok(ListGroupsResponse {
            groups: Some(groups.iter().map(Group::to_wire).collect()),
            next_token,
        })
    }

    /// Adds a user (by username or alias) to a group; adding a member again changes nothing.
    pub async fn admin_add_user_to_group(&self, caller: &Caller, req: AdminAddUserToGroupRequest) -> Result<()> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        self.require_group(&pool.id, &req.group_name).await?;
        let (key, _) = self.require_user(&pool, &req.username).await?;
        match self.store.add_to_group(&pool.id, &req.group_name, &key).await {
            Ok(()) => Ok(()),
            // The group or the user went away in between: answer as if it had been first.
            Err(StoreError::NotFound) => match self.store.get_group(&pool.id, &req.group_name).await? {
                None => Err(group_not_found()),
                Some(_) => Err(DomainError::UserNotFound(USER_NOT_FOUND.into())),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a user from a group; removing a non-member changes nothing.
    pub async fn admin_remove_user_from_group(
        &self,
        caller: &Caller,
        req: AdminRemoveUserFromGroupRequest,
    ) -> Result<()> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        self.require_group(&pool.id, &req.group_name).await?;
        let (key, _) = self.require_user(&pool, &req.username).await?;
        match self.store.remove_from_group(&pool.id, &req.group_name, &key).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::UserNotFound(USER_NOT_FOUND.into())),
            Err(e) => Err(e.into()),
        }
    }

    /// The user's groups in name order, `Limit` at a time.
    pub async fn admin_list_groups_for_user(
        &self,
        caller: &Caller,
        req: AdminListGroupsForUserRequest,
    ) -> Result<AdminListGroupsForUserResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (_, user) = self.require_user(&pool, &req.username).await?;
        let limit = page_size(req.limit);
        let after = req.next_token.as_deref().unwrap_or("");
        let names: Vec<String> = user
            .groups
            .iter()
            .filter(|n| n.as_str() > after)
            .take(limit + 1)
            .cloned()
            .collect();
        let (names, next_token) = paginate(names, limit, String::clone);
        let groups = self.store.get_groups(&pool.id, &names).await?;
        Ok(AdminListGroupsForUserResponse {
            groups: Some(groups.iter().map(Group::to_wire).collect()),
            next_token,
        })
    }

    /// The group's members as ListUsers shows users, in username-key order.
    pub async fn list_users_in_group(
        &self,
        caller: &Caller,
        req: ListUsersInGroupRequest,
    ) -> Result<ListUsersInGroupResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        self.require_group(&pool.id, &req.group_name).await?;
        let limit = page_size(req.limit);
        let rows = self
            .store
            .list_group_members(&pool.id, &req.group_name, req.next_token.as_deref(), limit + 1)
            .await?;
        let (members, next_token) = paginate(rows, limit, |(key, _)| key.clone());
        Ok(ListUsersInGroupResponse {
            users: Some(members.iter().map(|(_, u)| user_type(u)).collect()),
            next_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_at_most_sixty_and_zero_means_the_default() {
        assert_eq!(page_size(None), 60);
        assert_eq!(page_size(Some(0)), 60);
        assert_eq!(page_size(Some(7)), 7);
        assert_eq!(page_size(Some(600)), 60);
    }

    #[test]
    fn a_token_only_when_rows_remain() {
        let (rows, next) = paginate(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((rows, next), (vec![1, 2], Some("2".to_owned())));
        let (rows, next) = paginate(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((rows, next), (vec![1, 2], None));
    }
}
