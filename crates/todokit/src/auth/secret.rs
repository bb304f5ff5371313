use std::path::Path;

use anyhow::Context;
use rand::RngCore;

const SECRET_FILE: &str = "jwt_secret";
pub const MIN_SECRET_LEN: usize = 32;

/// Returns the configured signing secret, or the one kept in the data
/// directory, generating it on first run so restarts keep people signed in.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured.map(str::trim).filter(|s| !s.is_empty()) {
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_LEN,
            "TODOKIT_JWT_SECRET must be at least {MIN_SECRET_LEN} characters"
        );
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        anyhow::ensure!(
            existing.len() >= MIN_SECRET_LEN,
            "{} is too short; delete it to regenerate",
            path.display()
        );
        return Ok(existing.as_bytes().to_vec());
    }
    crate::config::create_data_dir(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new token signing secret");
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(None, dir.path()).unwrap();
        let second = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(first, second);
        assert!(first.len() >= MIN_SECRET_LEN);
        let other_dir = tempfile::tempdir().unwrap();
        assert_ne!(first, load_or_create_secret(None, other_dir.path()).unwrap());
    }

    #[test]
    fn configured_secret_wins_and_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let configured = "x".repeat(40);
        assert_eq!(load_or_create_secret(Some(&configured), dir.path()).unwrap(), configured.as_bytes());
        assert!(load_or_create_secret(Some("short"), dir.path()).is_err());
    }
}
