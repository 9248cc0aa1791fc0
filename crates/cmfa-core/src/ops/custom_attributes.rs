//! AddCustomAttributes: new `custom:` (or developer-only `dev:custom:`) attributes in a pool's
//! schema, under the same rules as CreateUserPool's (`pool::schema`).

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::pool::UserPool;
use cmfa_wire::shapes::{AddCustomAttributesRequest, AddCustomAttributesResponse, SchemaAttributeType};

/// Custom attributes a pool may have (AWS's quota, "Custom attributes per user pool").
pub(crate) const MAX_CUSTOM_ATTRIBUTES: usize = 50;

fn invalid(m: String) -> DomainError {
    DomainError::InvalidParameter(m)
}

/// Checks AddCustomAttributes' list against the pool's schema and returns the attributes as the
/// schema will hold them. Each attribute passes the same rules as CreateUserPool's custom ones
/// ([`crate::pool::schema::custom_attribute`]: a type, constraints that fit it, `custom:<Name>`
/// or `dev:custom:<Name>`); here also: no name the pool (or the request) has already, and at
/// most [`MAX_CUSTOM_ATTRIBUTES`] in all. The model's constraints (1–25 attributes, names of
/// 1–20 characters) are checked before this.
pub(crate) fn check_added_attributes(
    pool: &UserPool,
    added: &[SchemaAttributeType],
) -> Result<Vec<SchemaAttributeType>> {
    let schema = pool.config.schema_attributes.as_deref().unwrap_or(&[]);
    // `custom:x` and `dev:custom:x` share a name: a pool cannot have both.
    let bare = |n: &str| n.trim_start_matches("dev:").to_owned();
    let is_custom = |n: &str| bare(n).starts_with("custom:");
    let existing = schema
        .iter()
        .filter(|a| a.name.as_deref().is_some_and(is_custom))
        .count();
    if existing + added.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(invalid(format!(
            "A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes; it has {existing}."
        )));
    }
    let mut out: Vec<SchemaAttributeType> = Vec::with_capacity(added.len());
    for a in added {
        if a.name.as_deref().unwrap_or("").is_empty() {
            return Err(invalid("Custom attribute names cannot be empty.".into()));
        }
        let attr = crate::pool::schema::custom_attribute(a.clone())?;
        let name = attr.name.clone().unwrap_or_default();
        let taken = schema
            .iter()
            .chain(out.iter())
            .any(|s| s.name.as_deref().map(bare) == Some(bare(&name)));
        if taken {
            return Err(invalid(format!("Existing attribute already has name {name}.")));
        }
        out.push(attr);
    }
    Ok(out)
}

impl Service {
    /// Appends the attributes to the pool's schema (a versioned pool write, as any other).
    pub async fn add_custom_attributes(
        &self,
        caller: &Caller,
        req: AddCustomAttributesRequest,
    ) -> Result<AddCustomAttributesResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let added = check_added_attributes(&pool, &req.custom_attributes)?;
        let mut next = UserPool::clone(&pool);
        next.config.schema_attributes.get_or_insert_with(Vec::new).extend(added);
        next.config.last_modified_date = Some(self.clock.now_millis());
        next.version = pool.version + 1;
        self.save_pool(&pool.id, &next).await?;
        Ok(AddCustomAttributesResponse {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::rules;
    use cmfa_wire::shapes::{AttributeDataType, CreateUserPoolRequest, NumberAttributeConstraintsType};

    fn pool() -> UserPool {
        let req = CreateUserPoolRequest {
            pool_name: "p".into(),
            ..Default::default()
        };
        rules::create("us-east-1_a".into(), "arn".into(), 1.0, req).unwrap()
    }

    fn attr(name: &str) -> SchemaAttributeType {
        SchemaAttributeType {
            name: Some(name.into()),
            attribute_data_type: Some(AttributeDataType::String),
            ..Default::default()
        }
    }

    fn message(r: Result<Vec<SchemaAttributeType>>) -> String {
        match r {
            Err(DomainError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn names_get_their_prefix_and_defaults_are_filled_in() {
        let dev = SchemaAttributeType {
            developer_only_attribute: Some(true),
            mutable: Some(false),
            ..attr("secret")
        };
        let out = check_added_attributes(&pool(), &[attr("tier"), dev]).unwrap();
        assert_eq!(out[0].name.as_deref(), Some("custom:tier"));
        assert_eq!(out[0].attribute_data_type, Some(AttributeDataType::String));
        assert_eq!((out[0].mutable, out[0].required), (Some(true), Some(false)));
        assert_eq!(out[1].name.as_deref(), Some("dev:custom:secret"));
        assert_eq!(out[1].mutable, Some(false));
    }

    #[test]
    fn a_name_in_use_or_twice_in_the_request_is_refused() {
        let mut p = pool();
        let added = check_added_attributes(&p, &[attr("tier")]).unwrap();
        p.config.schema_attributes.as_mut().unwrap().extend(added);
        assert_eq!(
            message(check_added_attributes(&p, &[attr("tier")])),
            "Existing attribute already has name custom:tier."
        );
        let dev_twin = SchemaAttributeType {
            developer_only_attribute: Some(true),
            ..attr("tier")
        };
        assert!(message(check_added_attributes(&p, &[dev_twin])).contains("dev:custom:tier"));
        assert!(message(check_added_attributes(&pool(), &[attr("a"), attr("a")])).contains("custom:a"));
    }

    #[test]
    fn the_pool_limit_counts_existing_custom_attributes() {
        let mut p = pool();
        let first: Vec<_> = (0..25).map(|i| attr(&format!("a{i}"))).collect();
        let second: Vec<_> = (25..50).map(|i| attr(&format!("a{i}"))).collect();
        let added = check_added_attributes(&p, &first).unwrap();
        p.config.schema_attributes.as_mut().unwrap().extend(added);
        let added = check_added_attributes(&p, &second).unwrap();
        p.config.schema_attributes.as_mut().unwrap().extend(added);
        assert!(message(check_added_attributes(&p, &[attr("one_more")])).contains("at most 50"));
    }

    #[test]
    fn the_create_user_pool_rules_apply() {
        let p = pool();
        let untyped = SchemaAttributeType {
            attribute_data_type: None,
            ..attr("t")
        };
        assert!(message(check_added_attributes(&p, &[untyped])).starts_with("Invalid AttributeDataType input"));
        let backwards = SchemaAttributeType {
            attribute_data_type: Some(AttributeDataType::Number),
            number_attribute_constraints: Some(NumberAttributeConstraintsType {
                min_value: Some("10".into()),
                max_value: Some("1".into()),
            }),
            ..attr("n")
        };
        assert!(message(check_added_attributes(&p, &[backwards])).contains("cannot be less than"));
        let required = SchemaAttributeType {
            required: Some(true),
            ..attr("r")
        };
        assert!(message(check_added_attributes(&p, &[required])).contains("Required custom attributes"));
    }
}
