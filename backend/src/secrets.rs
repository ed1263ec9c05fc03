//! API keys entered on the settings page, encrypted at rest with AES-256-GCM.
//!
//! - The 32-byte key comes from `POCKET_DEV_SECRET_KEY` or a key file (see `SecretKey`); the server
//!   decides which and hands it over in `BackendConfig::secret_key`.
//! - Each value is stored as a random 96-bit nonce and its ciphertext, with the key's name as
//!   associated data, so a ciphertext cannot be moved to another name.
//! - Plaintext lives only in memory: in this store and in the providers' `RuntimeKey`s. Nothing here
//!   logs, returns or records a value; `KeyStatus` carries at most its last 4 characters.
//! - Every process (serve, worker) holds a copy; a change is committed with a NOTIFY on
//!   `pocketdev_secrets`, and each process reloads on it.
//!
//! The effective key of a provider is the settings-page key when set, else the environment's.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use providers::RuntimeKey;
use serde::Serialize;
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Row};

use crate::error::BackendError;

/// The NOTIFY channel of secret changes.
const CHANNEL: &str = "pocketdev_secrets";
/// The longest value accepted (real keys are about 100 characters).
const MAX_VALUE_LEN: usize = 1000;
/// Values shorter than this show no last 4 characters: it would give away too much of them.
const MIN_LEN_FOR_HINT: usize = 16;

/// A 256-bit encryption key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    /// 64 hex digits, or base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        use base64::Engine as _;
        let text = text.trim();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut key = [0u8; 32];
            for (i, byte) in key.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("checked hex");
            }
            return Ok(Self(key));
        }
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for engine in engines {
            if let Ok(bytes) = engine.decode(text) {
                if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                    return Ok(Self(key));
                }
            }
        }
        Err("must be 32 bytes written as 64 hex digits or as base64 (e.g. the output of `openssl rand -hex 32`)".into())
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads the key file, or creates it (mode 0600, its folder 0700) with a fresh key when missing.
    /// A file that others may read is refused, as ssh refuses such private keys.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                Self::parse(&text).map_err(|problem| format!("{}: {problem}", path.display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(error) => Err(format!("cannot read {}: {error}", path.display())),
        }
    }

    fn create(path: &Path) -> Result<Self, String> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let key = Self::generate();
        // Written to a temporary file and linked into place, so a concurrent starter never reads half a key.
        let temp = dir.join(format!(".secret-key-{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = (|| -> std::io::Result<()> {
            let mut file = private_file(&temp)?;
            writeln!(file, "{}", key.to_hex())?;
            file.sync_all()?;
            std::fs::hard_link(&temp, path)
        })();
        let _ = std::fs::remove_file(&temp);
        match written {
            Ok(()) => {
                tracing::info!(path = %path.display(), "created a new secret key file (mode 0600); keep it to read stored API keys");
                Ok(key)
            }
            // Another process created it first: use theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(path),
            Err(error) => Err(format!("cannot create {}: {error}", path.display())),
        }
    }
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!("{} is readable by others (mode {:o}); run `chmod 600 {}`", path.display(), mode & 0o777, path.display()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), String> {
    Ok(())
}

/// A key the settings page manages.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Also the environment variable it replaces.
    pub name: &'static str,
    pub label: &'static str,
}

pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
pub const OPENAI_COMPATIBLE_API_KEY: &str = "OPENAI_COMPATIBLE_API_KEY";

/// The keys the settings page offers.
pub const KEYS: [KeySpec; 3] = [
    KeySpec { name: ANTHROPIC_API_KEY, label: "Anthropic" },
    KeySpec { name: OPENAI_API_KEY, label: "OpenAI" },
    KeySpec { name: OPENAI_COMPATIBLE_API_KEY, label: "OpenAI-compatible server (optional)" },
];

/// What anyone may learn about a key: whether it is set, where from, and its last 4 characters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyStatus {
    pub name: &'static str,
    pub label: &'static str,
    pub set: bool,
    /// `"settings"` (the encrypted store) or `"environment"`; `None` when not set.
    pub source: Option<&'static str>,
    /// The last 4 characters, for keys long enough that this gives little away.
    pub last4: Option<String>,
}

/// The encrypted key store and the in-memory effective keys of this process.
pub struct Secrets {
    pool: PgPool,
    cipher: Aes256Gcm,
    /// Decrypted settings-page values by name.
    stored: RwLock<HashMap<&'static str, String>>,
    /// The environment's values by name.
    environment: HashMap<&'static str, String>,
    /// The providers' run-time keys by name, kept equal to the stored values.
    runtime: HashMap<&'static str, RuntimeKey>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    /// Loads the stored keys and follows changes made by other processes.
    pub async fn start(
        pool: PgPool,
        key: &SecretKey,
        environment: HashMap<&'static str, String>,
        runtime: HashMap<&'static str, RuntimeKey>,
    ) -> Result<Arc<Self>, BackendError> {
        let cipher = Aes256Gcm::new_from_slice(&key.0).expect("a 32-byte key");
        let secrets = Arc::new(Self { pool, cipher, stored: RwLock::default(), environment, runtime });
        secrets.reload().await.map_err(|error| match &error {
            BackendError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => {
                BackendError::Store("the table `secrets` is missing: run `pocket-dev migrate` first".into())
            }
            _ => error,
        })?;
        tokio::spawn(follow(Arc::downgrade(&secrets)));
        Ok(secrets)
    }

    fn spec(name: &str) -> Result<KeySpec, BackendError> {
        KEYS.iter().copied().find(|k| k.name == name).ok_or_else(|| {
            let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
            BackendError::invalid(format!("unknown key `{}`; known: {}", printable(name), names.join(", ")))
        })
    }

    /// Every key's status.
    pub fn status(&self) -> Vec<KeyStatus> {
        KEYS.iter().map(|spec| self.status_of(*spec)).collect()
    }

    fn status_of(&self, spec: KeySpec) -> KeyStatus {
        let stored = self.stored.read().unwrap_or_else(|e| e.into_inner()).get(spec.name).cloned();
        let (value, source) = match (stored, self.environment.get(spec.name)) {
            (Some(value), _) => (Some(value), Some("settings")),
            (None, Some(value)) => (Some(value.clone()), Some("environment")),
            (None, None) => (None, None),
        };
        let last4 = value.as_deref().filter(|v| v.chars().count() >= MIN_LEN_FOR_HINT).map(|v| {
            let chars: Vec<char> = v.chars().collect();
            chars[chars.len() - 4..].iter().collect()
        });
        KeyStatus { name: spec.name, label: spec.label, set: value.is_some(), source, last4 }
    }

    /// Stores (or replaces) a key and returns its status.
    pub async fn set(&self, name: &str, value: &str) -> Result<KeyStatus, BackendError> {
        let spec = Self::spec(name)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(BackendError::invalid("the key is empty"));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(BackendError::invalid(format!("the key is longer than {MAX_VALUE_LEN} characters")));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BackendError::invalid("the key may only contain visible ASCII characters (no spaces)"));
        }
        let nonce: [u8; 12] = rand::random();
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: value.as_bytes(), aad: spec.name.as_bytes() })
            .map_err(|_| BackendError::Store("encryption failed".into()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO secrets (name, nonce, ciphertext, updated_at) VALUES ($1, $2, $3, now())
             ON CONFLICT (name) DO UPDATE SET nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now()",
        )
        .bind(spec.name)
        .bind(&nonce[..])
        .bind(&ciphertext)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(spec.name).execute(&mut *tx).await?;
        tx.commit().await?;
        self.stored.write().unwrap_or_else(|e| e.into_inner()).insert(spec.name, value.to_string());
        self.apply();
        tracing::info!(key = spec.name, "API key stored (encrypted)");
        Ok(self.status_of(spec))
    }

    /// Deletes a stored key; the environment's value, if any, applies again.
    pub async fn delete(&self, name: &str) -> Result<KeyStatus, BackendError> {
        let spec = Self::spec(name)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM secrets WHERE name = $1").bind(spec.name).execute(&mut *tx).await?;
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(spec.name).execute(&mut *tx).await?;
        tx.commit().await?;
        self.stored.write().unwrap_or_else(|e| e.into_inner()).remove(spec.name);
        self.apply();
        tracing::info!(key = spec.name, "stored API key deleted");
        Ok(self.status_of(spec))
    }

    /// Re-reads and decrypts every stored key. One that does not decrypt (another key file?) is skipped with a warning.
    pub async fn reload(&self) -> Result<(), BackendError> {
        let rows = sqlx::query("SELECT name, nonce, ciphertext FROM secrets").fetch_all(&self.pool).await?;
        let mut stored = HashMap::new();
        for row in rows {
            let name: String = row.try_get("name")?;
            let Ok(spec) = Self::spec(&name) else { continue };
            let nonce: Vec<u8> = row.try_get("nonce")?;
            let ciphertext: Vec<u8> = row.try_get("ciphertext")?;
            let plain = (nonce.len() == 12)
                .then(|| self.cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: spec.name.as_bytes() }).ok())
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            match plain {
                Some(value) => {
                    stored.insert(spec.name, value);
                }
                None => tracing::warn!(
                    key = spec.name,
                    "a stored API key cannot be decrypted with the current secret key (POCKET_DEV_SECRET_KEY or its key file changed?); set it again on the settings page"
                ),
            }
        }
        *self.stored.write().unwrap_or_else(|e| e.into_inner()) = stored;
        self.apply();
        Ok(())
    }

    /// Hands the stored values to the providers.
    fn apply(&self) {
        let stored = self.stored.read().unwrap_or_else(|e| e.into_inner());
        for (name, key) in &self.runtime {
            key.set(stored.get(name).cloned());
        }
    }
}

/// Names come from clients: show them only when short and printable.
fn printable(name: &str) -> String {
    if name.len() <= 64 && name.chars().all(|c| c.is_ascii_graphic()) {
        name.to_string()
    } else {
        "…".to_string()
    }
}

/// Reloads on every NOTIFY (and after a reconnect) until the store is dropped.
async fn follow(secrets: Weak<Secrets>) {
    loop {
        let Some(pool) = secrets.upgrade().map(|s| s.pool.clone()) else { return };
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listener.await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for API key changes; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        drop(pool);
        // Changes made while not listening.
        if let Some(store) = secrets.upgrade() {
            let _ = store.reload().await;
        }
        loop {
            // Wakes up now and then to notice that the store is gone.
            match tokio::time::timeout(Duration::from_secs(10), listener.try_recv()).await {
                Err(_) => {
                    if secrets.strong_count() == 0 {
                        return;
                    }
                }
                Ok(Ok(_)) => match secrets.upgrade() {
                    Some(store) => {
                        if let Err(error) = store.reload().await {
                            tracing::warn!(%error, "reloading API keys failed");
                        }
                    }
                    None => return,
                },
                Ok(Err(error)) => {
                    tracing::warn!(%error, "API key change listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_hex_and_base64_only_when_32_bytes() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert_eq!(SecretKey::parse(hex).unwrap().0[1], 0x11);
        let b64 = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";
        assert_eq!(SecretKey::parse(b64).unwrap().0, SecretKey::parse(hex).unwrap().0);
        for bad in ["", "short", &hex[..62], "ABEiM0RVZneImaq7zN3u/w==", "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"]
        {
            assert!(SecretKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{:?}", SecretKey::parse(hex).unwrap()).contains("0011"));
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pd-key-{}", uuid::Uuid::new_v4().simple()));
        let path = dir.join("nested/secret.key");
        let first = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(SecretKey::load_or_create(&path).unwrap().0, first.0);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(SecretKey::load_or_create(&path).unwrap_err().contains("chmod 600"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_ciphertext_only_decrypts_under_its_own_name() {
        let cipher = Aes256Gcm::new_from_slice(&SecretKey::generate().0).unwrap();
        let nonce = [7u8; 12];
        let sealed = cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: b"sk-ant-secret", aad: b"ANTHROPIC_API_KEY" }).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"sk-ant"));
        assert!(cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &sealed, aad: b"OPENAI_API_KEY" }).is_err());
        let opened = cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &sealed, aad: b"ANTHROPIC_API_KEY" }).unwrap();
        assert_eq!(opened, b"sk-ant-secret");
    }
}
