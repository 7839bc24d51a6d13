//! Identifier newtypes for people and cameras, parsed once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid identifier.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("{kind} id is empty")]
    Empty { kind: &'static str },
    #[error("{kind} id {value:?} is longer than 64 characters")]
    TooLong { kind: &'static str, value: String },
    #[error("{kind} id {value:?} may contain only a-z, 0-9, '-', '_' and '.', and must start with a letter or digit")]
    BadCharacter { kind: &'static str, value: String },
}

const MAX_ID_LEN: usize = 64;

/// Ids travel in Kafka keys, NATS subjects and URLs, so they are kept to a safe lowercase alphabet.
fn validate(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            kind,
            value: value.to_owned(),
        });
    }
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !(first_ok && rest_ok) {
        return Err(IdError::BadCharacter {
            kind,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Turns a free-form name (a folder name, say) into a valid id: lowercase, other characters as '-'.
fn slugify(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    trimmed.chars().take(MAX_ID_LEN).collect()
}

macro_rules! id_newtype {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("A validated ", $kind, " identifier.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate($kind, &value)?;
                Ok(Self(value))
            }

            /// Derives an id from a human name such as a folder name ("Barack Obama" → "barack-obama").
            pub fn from_name(name: &str) -> Result<Self, IdError> {
                Self::parse(slugify(name))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

id_newtype!(PersonId, "person");
id_newtype!(CameraId, "camera");

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_typical_ids() {
        for ok in ["obama", "kit_harington", "door-1", "a", "cam.2"] {
            assert!(PersonId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(PersonId::parse(""), Err(IdError::Empty { kind: "person" }));
        assert!(matches!(PersonId::parse("Obama"), Err(IdError::BadCharacter { .. })));
        assert!(matches!(CameraId::parse("-door"), Err(IdError::BadCharacter { .. })));
        assert!(matches!(CameraId::parse("a b"), Err(IdError::BadCharacter { .. })));
        assert!(matches!(CameraId::parse("x".repeat(65)), Err(IdError::TooLong { .. })));
        assert!(matches!(
            PersonId::parse("robert'); drop table people;--"),
            Err(IdError::BadCharacter { .. })
        ));
    }

    #[test]
    fn from_name_slugifies() {
        assert_eq!(PersonId::from_name("Barack Obama").unwrap().as_str(), "barack-obama");
        assert_eq!(
            PersonId::from_name("  lin_manuel_miranda ").unwrap().as_str(),
            "lin_manuel_miranda"
        );
        assert!(PersonId::from_name("***").is_err());
    }

    #[test]
    fn serde_rejects_invalid() {
        assert!(serde_json::from_str::<PersonId>("\"ok-id\"").is_ok());
        assert!(serde_json::from_str::<PersonId>("\"NOT OK\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_safe_alphabet(s in "\\PC{0,80}") {
            let safe = !s.is_empty() && s.len() <= 64
                && s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
            prop_assert_eq!(CameraId::parse(s.clone()).is_ok(), safe);
        }

        #[test]
        fn from_name_yields_valid_or_error(s in "\\PC{0,100}") {
            if let Ok(id) = PersonId::from_name(&s) {
                prop_assert!(PersonId::parse(id.as_str()).is_ok());
            }
        }
    }
}
