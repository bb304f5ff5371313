/// A syntactically plausible email address: something@domain.tld, ≤ 255 chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    original: String,
    normalized: String,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        let invalid = "Invalid email format";
        if trimmed.is_empty()
            || trimmed.chars().count() > 255
            || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(invalid)?;
        let dotted = domain.split('.').count() >= 2 && domain.split('.').all(|part| !part.is_empty());
        if local.is_empty() || local.contains('@') || !dotted {
            return Err(invalid);
        }
        Ok(Self { original: trimmed.to_owned(), normalized: trimmed.to_lowercase() })
    }

    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The case-insensitive form used for uniqueness and look-ups.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_plain_addresses_and_normalizes_case() {
        let email = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ada@Example.COM");
        assert_eq!(email.normalized(), "ada@example.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@example.",
            "a b@example.com",
            "ada@@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
