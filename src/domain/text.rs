//! The one rule for names people type (display names, camera names and locations, group and
//! schedule names): trimmed, bounded in characters, and free of control characters, which
//! PostgreSQL refuses (NUL) or which corrupt logs, CSV exports and pages (newlines, escapes).

/// The most characters a name may have.
pub const MAX_NAME_CHARS: usize = 200;

/// `raw` trimmed, when it has at most `MAX_NAME_CHARS` characters and no control character, and
/// (unless `may_be_empty`) is not empty; else why not, naming the field `what`.
pub fn checked_name(what: &str, raw: &str, may_be_empty: bool) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() && !may_be_empty {
        return Err(format!("{what} must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("{what} may have at most {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "{what} must not contain control characters (NUL, newlines, tabs, escapes)"
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(checked_name("name", "  Room 4B ", false).unwrap(), "Room 4B");
        assert!(
            checked_name("name", "Room\u{0}4B", false)
                .unwrap_err()
                .contains("control")
        );
        assert!(checked_name("name", "a\nb", false).is_err());
        assert!(checked_name("name", "   ", false).unwrap_err().contains("empty"));
        assert_eq!(checked_name("location", "", true).unwrap(), "");
        assert!(
            checked_name("name", &"é".repeat(201), false)
                .unwrap_err()
                .contains("200")
        );
        assert!(checked_name("name", &"é".repeat(200), false).is_ok());
    }
}
