//! Identifiers shaped like AWS's, from a CSPRNG.

use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A user pool id such as `us-east-1_AbC123xyZ`: the region, `_`, nine letters or digits.
pub fn new_user_pool_id(region: &str) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(region.len() + 10);
    id.push_str(region);
    id.push('_');
    for _ in 0..9 {
        id.push(ALNUM[rng.random_range(0..ALNUM.len())] as char);
    }
    id
}

/// The region a pool id names (the part before `_`).
pub fn region_of_pool_id(id: &str) -> &str {
    id.split_once('_').map(|(r, _)| r).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ids_look_like_aws() {
        let id = new_user_pool_id("eu-west-1");
        assert_eq!(id.len(), "eu-west-1_".len() + 9);
        assert!(id.starts_with("eu-west-1_"));
        assert!(id[10..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(region_of_pool_id(&id), "eu-west-1");
        assert_ne!(id, new_user_pool_id("eu-west-1"));
    }
}
