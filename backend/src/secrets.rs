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

mod key;
mod store;

pub use key::SecretKey;
pub use store::{KeySpec, KeyStatus, Secrets, ANTHROPIC_API_KEY, KEYS, OPENAI_API_KEY, OPENAI_COMPATIBLE_API_KEY};

use crate::error::BackendError;
use crate::state::Backend;

impl Backend {
    fn secret_store(&self) -> Result<&Secrets, BackendError> {
        self.secrets.as_deref().ok_or_else(|| {
            BackendError::Unconfigured("storing API keys is not configured (POCKET_DEV_SECRET_KEY or PD_SECRET_KEY_FILE)".into())
        })
    }

    /// Every settings-page key's status: set or not, from where, its last 4 characters.
    pub fn api_keys(&self) -> Result<Vec<KeyStatus>, BackendError> {
        Ok(self.secret_store()?.status())
    }

    /// Stores (encrypted) or replaces a settings-page key; every process uses it from now on.
    pub async fn set_api_key(&self, name: &str, value: &str) -> Result<KeyStatus, BackendError> {
        self.secret_store()?.set(name, value).await
    }

    /// Deletes a settings-page key (the environment's, if any, applies again).
    pub async fn delete_api_key(&self, name: &str) -> Result<KeyStatus, BackendError> {
        self.secret_store()?.delete(name).await
    }
}
