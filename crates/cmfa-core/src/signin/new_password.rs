//! Answers NEW_PASSWORD_REQUIRED: the user replaces a temporary password (and may fill in
//! required attributes). The engine saves the result as a profile change (aliases may move with
//! the attributes) and continues with [`super::next::after_first_factor`].

use super::Turn;
use crate::error::Result;
use crate::user::password::{PasswordRecord, check_policy};
use crate::user::{User, attributes};
use cmfa_wire::shapes::{AttributeType, UserStatusType};

/// The user with the new password and attributes, confirmed.
pub(crate) async fn answer(t: &Turn<'_>, password: &str, updates: &[AttributeType]) -> Result<User> {
    let pool = t.pool;
    check_policy(&pool.password_policy(), password)?;
    attributes::check_writable(pool, updates, false)?;
    let mut user = t.user.clone();
    for a in updates {
        user.set_attr(&a.name, a.value.clone());
    }
    attributes::check_required(pool, &user.attributes)?;
    let (pool_id, user_id, password, cost, now) = (
        pool.id.clone(),
        user.username.clone(),
        password.to_owned(),
        t.hash_cost,
        t.now,
    );
    user.password = Some(
        t.cpu
            .run(move || PasswordRecord::new(&pool_id, &user_id, &password, false, now, cost))
            .await??,
    );
    user.status = UserStatusType::Confirmed;
    Ok(user)
}
