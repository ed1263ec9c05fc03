//! `Keys`: the API keys the mock accepts (any non-empty key when none are configured) and, per API,
//! a SHA-256 of the last key it was sent, so a test can tell which key a provider used without the
//! mock ever showing or logging a key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// Which API a key was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Api {
    Anthropic,
    OpenAi,
}

impl Api {
    pub(crate) fn parse(name: &str) -> Option<Api> {
        match name {
            "anthropic" => Some(Api::Anthropic),
            "openai" => Some(Api::OpenAi),
            _ => None,
        }
    }
}

/// The accepted keys (as SHA-256 digests) and the last key each API saw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys {
    accepted: Arc<Vec<String>>,
    last: Arc<Mutex<HashMap<Api, String>>>,
}

/// The SHA-256 of `key`, in lowercase hex.
pub fn fingerprint(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Keys {
    pub(crate) fn new(accepted: &[String]) -> Keys {
        Keys { accepted: Arc::new(accepted.iter().map(|k| fingerprint(k)).collect()), last: Arc::default() }
    }

    /// Records `key` as the last one `api` saw; whether the mock accepts it.
    pub(crate) fn check(&self, api: Api, key: &str) -> bool {
        let digest = fingerprint(key);
        let accepted = self.accepted.is_empty() || self.accepted.contains(&digest);
        self.last.lock().expect("the key record is never poisoned").insert(api, digest);
        accepted
    }

    /// The fingerprint of the last key `api` saw.
    pub(crate) fn last(&self, api: Api) -> Option<String> {
        self.last.lock().expect("the key record is never poisoned").get(&api).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_no_keys_configured_any_key_is_accepted_and_the_last_one_is_remembered_by_its_digest() {
        let keys = Keys::new(&[]);
        assert!(keys.check(Api::Anthropic, "sk-a"));
        assert_eq!(keys.last(Api::Anthropic), Some(fingerprint("sk-a")));
        assert_eq!(keys.last(Api::OpenAi), None);
    }

    #[test]
    fn with_keys_configured_only_those_are_accepted() {
        let keys = Keys::new(&["sk-good".to_string()]);
        assert!(keys.check(Api::OpenAi, "sk-good"));
        assert!(!keys.check(Api::OpenAi, "sk-bad"));
        assert_eq!(keys.last(Api::OpenAi), Some(fingerprint("sk-bad")));
        assert_eq!(fingerprint("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
