//! Known access keys for SigV4 verification, loaded from an AWS shared-credentials file.

use std::collections::HashMap;
use std::fmt;

/// Known access keys, loaded from an AWS shared-credentials file.
///
/// The map is keyed by access key id because that is what arrives in the credential scope; the
/// secret never leaves this type except to derive a signing key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    secrets: HashMap<String, String>,
}

/// One `[section]` while a credentials file is being read.
#[derive(Default)]
struct Profile {
    name: String,
    key_id: Option<String>,
    secret: Option<String>,
}

impl Credentials {
    /// Parses the INI format the AWS CLI writes (`~/.aws/credentials`).
    ///
    /// Follows botocore's reader where it matters: `#`/`;` whole-line comments, `=` or `:` as the
    /// delimiter, case-insensitive key names, no inline comments (a secret may contain `#`), and
    /// other keys (`region`, `aws_session_token`, nested `s3 =` blocks) ignored. Errors name the
    /// line or profile but never echo a value, so a typo cannot leak a secret into a log.
    pub fn parse(text: &str) -> Result<Credentials, String> {
        let mut profiles: Vec<Profile> = Vec::new();
        let mut current: Option<usize> = None;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);

        for (index, raw) in text.lines().enumerate() {
            let lineno = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(format!(
                        "credentials line {lineno}: section header is missing its closing ']'"
                    ));
                };
                // `[profile x]` is the config-file spelling of the same profile.
                let name = name.trim();
                let name = name.strip_prefix("profile ").map_or(name, str::trim);
                if name.is_empty() {
                    return Err(format!("credentials line {lineno}: section header has no name"));
                }
                let at = match profiles.iter().position(|p| p.name == name) {
                    Some(at) => at,
                    None => {
                        profiles.push(Profile {
                            name: name.to_owned(),
                            ..Profile::default()
                        });
                        profiles.len() - 1
                    }
                };
                current = Some(at);
                continue;
            }
            let Some(pos) = line.find(['=', ':']) else {
                // An indented line without a delimiter continues a multi-line value.
                if raw.starts_with([' ', '\t']) {
                    continue;
                }
                return Err(format!(
                    "credentials line {lineno}: expected 'key = value' or a [profile] header"
                ));
            };
            let Some(at) = current else {
                return Err(format!(
                    "credentials line {lineno}: key outside of any [profile] section"
                ));
            };
            let Some(profile) = profiles.get_mut(at) else {
                continue;
            };
            let key = line[..pos].trim().to_ascii_lowercase();
            let value = line[pos + 1..].trim();
            let slot = match key.as_str() {
                "aws_access_key_id" => &mut profile.key_id,
                "aws_secret_access_key" => &mut profile.secret,
                _ => continue,
            };
            if slot.is_some() {
                return Err(format!(
                    "credentials line {lineno}: profile '{}' sets {key} twice",
                    profile.name
                ));
            }
            if value.is_empty() {
                return Err(format!(
                    "credentials line {lineno}: profile '{}' has an empty {key}",
                    profile.name
                ));
            }
            *slot = Some(value.to_owned());
        }

        let mut secrets: HashMap<String, String> = HashMap::new();
        let mut owner: HashMap<String, String> = HashMap::new();
        for profile in profiles {
            match (profile.key_id, profile.secret) {
                (Some(id), Some(secret)) => {
                    if id.contains(|c: char| c == '/' || c == ',' || c.is_whitespace()) {
                        return Err(format!(
                            "profile '{}': aws_access_key_id must not contain '/', ',' or spaces",
                            profile.name
                        ));
                    }
                    if let Some(previous) = secrets.get(&id) {
                        if *previous != secret {
                            let first = owner.get(&id).map_or("?", String::as_str);
                            return Err(format!(
                                "access key id '{id}' appears in profiles '{first}' and '{}' with different secrets",
                                profile.name
                            ));
                        }
                        continue;
                    }
                    owner.insert(id.clone(), profile.name);
                    secrets.insert(id, secret);
                }
                (Some(_), None) => {
                    return Err(format!(
                        "profile '{}' has aws_access_key_id but no aws_secret_access_key",
                        profile.name
                    ));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "profile '{}' has aws_secret_access_key but no aws_access_key_id",
                        profile.name
                    ));
                }
                (None, None) => {}
            }
        }
        if secrets.is_empty() {
            return Err("credentials file holds no aws_access_key_id / aws_secret_access_key pair".into());
        }
        Ok(Credentials { secrets })
    }

    /// Builds a key set directly, for callers (tests, env-var config) that have no file.
    /// A repeated access key id keeps the last secret.
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Credentials {
        Credentials {
            secrets: pairs.into_iter().collect(),
        }
    }

    /// How many access keys are known.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// True when no key is known, which means no signed request can ever verify.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub(super) fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.secrets.get(access_key_id).map(String::as_str)
    }
}

/// Lists key ids only: this type ends up in config dumps and logs, and secrets must not.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Credentials")
            .field("access_key_ids", &ids)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
