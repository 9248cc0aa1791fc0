//! User pool groups: what is stored, and the group claims of a member's tokens.
//!
//! Storage design (the adapters follow it):
//! - a `groups` table keyed by (pool id, group name) holds each group;
//! - a `group_members` table keyed by (pool id, group name, user key) answers ListUsersInGroup
//!   and cascades away with its group, its user or its pool;
//! - the member's own row in `users` carries the names of its groups in a column of its own
//!   (not in the user's JSON record), written in the same transaction as `group_members`.
//!
//! Why the copy on the user row: every sign-in and refresh already reads that row, so a user in
//! no group costs nothing more to sign in, and the group names come for free. Only a member
//! needs a second read, for its groups' role ARNs and precedences (the ID token's
//! `cognito:roles` and `cognito:preferred_role`). The column is outside the JSON record, so a
//! user write (attributes, a sign-in's lockout reset) never overwrites a membership change that
//! landed after it read the user, and a membership change never bumps the user's version (it
//! cannot make a concurrent sign-in or attribute update lose a race).

use cmfa_wire::shapes::GroupType;
use serde::{Deserialize, Serialize};

/// AWS's message for a group name the pool does not have.
pub const NOT_FOUND: &str = "Group not found.";

/// One group as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i32>,
    /// Unix seconds with milliseconds, as every Cognito date.
    pub created: f64,
    pub modified: f64,
}

impl Group {
    /// The group as GetGroup, ListGroups and AdminListGroupsForUser show it.
    pub fn to_wire(&self) -> GroupType {
        GroupType {
            group_name: Some(self.name.clone()),
            user_pool_id: Some(self.pool_id.clone()),
            description: self.description.clone(),
            role_arn: self.role_arn.clone(),
            precedence: self.precedence,
            last_modified_date: Some(self.modified),
            creation_date: Some(self.created),
        }
    }
}

/// The ID token's `cognito:preferred_role`, as the model documents it (CreateGroup's
/// `Precedence`): among the groups that have a role, the one with the lowest precedence wins, a
/// group without a precedence coming after every group with one. Groups tied for first place
/// give their role only if they all name the same one; different roles there give no claim.
pub fn preferred_role(groups: &[Group]) -> Option<&str> {
    // `None` sorts after every `Some`: an absent precedence loses to any value.
    let rank = |g: &Group| (g.precedence.is_none(), g.precedence.unwrap_or(0));
    let with_role = groups.iter().filter(|g| g.role_arn.is_some());
    let best = with_role.clone().map(rank).min()?;
    let mut roles = with_role
        .filter(|g| rank(g) == best)
        .filter_map(|g| g.role_arn.as_deref());
    let first = roles.next()?;
    roles.all(|r| r == first).then_some(first)
}

/// The ID token's `cognito:roles`: every distinct role of the user's groups, in group order.
pub fn roles(groups: &[Group]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in groups.iter().filter_map(|g| g.role_arn.as_deref()) {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(name: &str, role: Option<&str>, precedence: Option<i32>) -> Group {
        Group {
            pool_id: "p".into(),
            name: name.into(),
            description: None,
            role_arn: role.map(str::to_owned),
            precedence,
            created: 1.0,
            modified: 1.0,
        }
    }

    #[test]
    fn the_lowest_precedence_with_a_role_is_preferred() {
        let groups = [
            g("a", Some("arn:r1"), Some(5)),
            g("b", Some("arn:r2"), Some(1)),
            g("c", None, Some(0)),
        ];
        assert_eq!(preferred_role(&groups), Some("arn:r2"));
        assert_eq!(roles(&groups), ["arn:r1", "arn:r2"]);
    }

    #[test]
    fn an_absent_precedence_loses_to_any_value() {
        let groups = [g("a", Some("arn:r1"), None), g("b", Some("arn:r2"), Some(1_000))];
        assert_eq!(preferred_role(&groups), Some("arn:r2"));
        assert_eq!(preferred_role(&groups[..1]), Some("arn:r1"));
    }

    #[test]
    fn a_tie_gives_a_role_only_when_the_roles_agree() {
        let same = [g("a", Some("arn:r1"), Some(2)), g("b", Some("arn:r1"), Some(2))];
        assert_eq!(preferred_role(&same), Some("arn:r1"));
        assert_eq!(roles(&same), ["arn:r1"]);
        let different = [g("a", Some("arn:r1"), Some(2)), g("b", Some("arn:r2"), Some(2))];
        assert_eq!(preferred_role(&different), None);
        let both_unranked = [g("a", Some("arn:r1"), None), g("b", Some("arn:r2"), None)];
        assert_eq!(preferred_role(&both_unranked), None);
        assert_eq!(preferred_role(&[g("a", None, Some(1))]), None);
    }
}
