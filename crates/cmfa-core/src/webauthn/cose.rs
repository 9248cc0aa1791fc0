//! COSE public keys (RFC 9052/9053) as authenticators send them, and signature checks with them.
//!
//! Two algorithms, the two AWS offers in `pubKeyCredParams`: ES256 (-7, ECDSA P-256 with
//! SHA-256, DER signatures as WebAuthn specifies) and RS256 (-257, RSASSA-PKCS1-v1_5 with
//! SHA-256). Anything else (EdDSA -8 included) is refused as not supported.

use ciborium::Value;

/// ES256.
pub const ES256: i64 = -7;
/// RS256.
pub const RS256: i64 = -257;

/// A credential public key this server can check signatures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoseKey {
    /// P-256: the uncompressed point `04 || x || y`.
    Es256 { point: Vec<u8> },
    /// RSA: modulus and exponent, big-endian.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Not a COSE key map, or a member of the wrong type or size.
    Malformed(&'static str),
    /// A well-formed key of an algorithm or curve this server does not offer.
    Unsupported(i64),
}

fn int(v: &Value) -> Option<i128> {
    v.as_integer().map(i128::from)
}

fn member(map: &[(Value, Value)], label: i64) -> Option<&Value> {
    map.iter().find(|(k, _)| int(k) == Some(label as i128)).map(|(_, v)| v)
}

fn bytes<'a>(map: &'a [(Value, Value)], label: i64, what: &'static str) -> Result<&'a [u8], KeyError> {
    member(map, label)
        .and_then(Value::as_bytes)
        .map(Vec::as_slice)
        .ok_or(KeyError::Malformed(what))
}

impl CoseKey {
    /// Reads a COSE_Key map: `kty` (1), `alg` (3) and the key's parameters.
    pub fn from_cbor(v: &Value) -> Result<CoseKey, KeyError> {
        let map = v.as_map().ok_or(KeyError::Malformed("the public key is not a map"))?;
        let kty = member(map, 1).and_then(int).ok_or(KeyError::Malformed("no key type"))?;
        let alg = member(map, 3)
            .and_then(int)
            .ok_or(KeyError::Malformed("no algorithm"))?;
        let alg = i64::try_from(alg).map_err(|_| KeyError::Malformed("algorithm out of range"))?;
        match (kty, alg) {
            (2, ES256) => {
                // crv 1 = P-256.
                if member(map, -1).and_then(int) != Some(1) {
                    return Err(KeyError::Unsupported(alg));
                }
                let (x, y) = (bytes(map, -2, "no x")?, bytes(map, -3, "no y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(KeyError::Malformed("a P-256 coordinate is not 32 bytes"));
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                Ok(CoseKey::Es256 { point })
            }
            (3, RS256) => {
                let (n, e) = (bytes(map, -1, "no modulus")?, bytes(map, -2, "no exponent")?);
                if n.len() < 256 || e.is_empty() {
                    return Err(KeyError::Malformed("an RSA key under 2048 bits"));
                }
                Ok(CoseKey::Rs256 {
                    n: n.to_vec(),
                    e: e.to_vec(),
                })
            }
            (_, alg) => Err(KeyError::Unsupported(alg)),
        }
    }

    /// Reads a COSE_Key from its CBOR bytes (as stored).
    pub fn from_bytes(b: &[u8]) -> Result<CoseKey, KeyError> {
        let v: Value = ciborium::de::from_reader(b).map_err(|_| KeyError::Malformed("not CBOR"))?;
        CoseKey::from_cbor(&v)
    }

    /// The COSE algorithm.
    pub fn alg(&self) -> i64 {
        match self {
            CoseKey::Es256 { .. } => ES256,
            CoseKey::Rs256 { .. } => RS256,
        }
    }

    /// Whether `signature` signs `message` under this key.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
        match self {
            CoseKey::Es256 { point } => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
                .verify(message, signature)
                .is_ok(),
            CoseKey::Rs256 { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: Vec<(i64, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (Value::Integer(k.into()), v)).collect())
    }

    #[test]
    fn p256_keys_verify_and_other_algorithms_are_unsupported() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref();
        let cose = map(vec![
            (1, Value::Integer(2.into())),
            (3, Value::Integer((-7).into())),
            (-1, Value::Integer(1.into())),
            (-2, Value::Bytes(public[1..33].to_vec())),
            (-3, Value::Bytes(public[33..].to_vec())),
        ]);
        let key = CoseKey::from_cbor(&cose).unwrap();
        assert_eq!(key.alg(), ES256);
        let sig = pair.sign(&rng, b"message").unwrap();
        assert!(key.verify(b"message", sig.as_ref()));
        assert!(!key.verify(b"massage", sig.as_ref()));

        let ed = map(vec![
            (1, Value::Integer(1.into())),
            (3, Value::Integer((-8).into())),
            (-1, Value::Integer(6.into())),
            (-2, Value::Bytes(vec![0; 32])),
        ]);
        assert_eq!(CoseKey::from_cbor(&ed), Err(KeyError::Unsupported(-8)));
        let p384 = map(vec![
            (1, Value::Integer(2.into())),
            (3, Value::Integer((-7).into())),
            (-1, Value::Integer(2.into())),
        ]);
        assert_eq!(CoseKey::from_cbor(&p384), Err(KeyError::Unsupported(-7)));
        assert!(matches!(CoseKey::from_bytes(b"\xff"), Err(KeyError::Malformed(_))));
    }
}
