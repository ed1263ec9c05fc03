//! The encrypted key store (AES-256-GCM, a row per key) and this process's effective keys, reloaded on NOTIFY.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use providers::RuntimeKey;
use serde::Serialize;
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Row};

use super::SecretKey;
use crate::error::BackendError;

/// The NOTIFY channel of secret changes.
const CHANNEL: &str = "pocketdev_secrets";
/// The longest value accepted (real keys are about 100 characters).
const MAX_VALUE_LEN: usize = 1000;
/// Values shorter than this show no last 4 characters: it would give away too much of them.
const MIN_LEN_FOR_HINT: usize = 16;

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
        let cipher = Aes256Gcm::new_from_slice(key.bytes()).expect("a 32-byte key");
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
            if let Err(error) = store.reload().await {
                tracing::warn!(%error, "reloading the API keys after (re)listening failed; the next change reloads them");
            }
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
    fn a_ciphertext_only_decrypts_under_its_own_name() {
        let cipher = Aes256Gcm::new_from_slice(SecretKey::generate().bytes()).unwrap();
        let nonce = [7u8; 12];
        let sealed = cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: b"sk-ant-secret", aad: b"ANTHROPIC_API_KEY" }).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"sk-ant"));
        assert!(cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &sealed, aad: b"OPENAI_API_KEY" }).is_err());
        let opened = cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &sealed, aad: b"ANTHROPIC_API_KEY" }).unwrap();
        assert_eq!(opened, b"sk-ant-secret");
    }
}
