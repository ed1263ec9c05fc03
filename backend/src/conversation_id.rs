//! `ConversationId`: a conversation's id, a UUID in its canonical lowercase hyphenated form, the one
//! rule every edge (API routes, server pages) checks a client's id with.

use std::fmt;
use std::str::FromStr;

/// A conversation id, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId(String);

/// Not a conversation id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a conversation id")]
pub struct NotAnId;

impl ConversationId {
    /// A new random id.
    pub fn generate() -> Self {
        ConversationId(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ConversationId {
    type Err = NotAnId;

    /// Any form `uuid` reads (hyphenated, simple, braced, upper case) becomes the canonical one.
    fn from_str(raw: &str) -> Result<Self, NotAnId> {
        uuid::Uuid::parse_str(raw).map(|id| ConversationId(id.to_string())).map_err(|_| NotAnId)
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ConversationId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_in_any_uuid_form_and_kept_in_the_canonical_one() {
        let id: ConversationId = "6F9619FF-8B86-D011-B42D-00C04FC964FF".parse().unwrap();
        assert_eq!(id.as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!("6f9619ff8b86d011b42d00c04fc964ff".parse::<ConversationId>().unwrap(), id);
        for bad in ["", "42", "../etc", "6f9619ff-8b86-d011-b42d-00c04fc964fg", "6f9619ff-8b86-d011-b42d-00c04fc964ff/x"] {
            assert_eq!(bad.parse::<ConversationId>(), Err(NotAnId), "{bad:?}");
        }
        assert_ne!(ConversationId::generate(), ConversationId::generate());
    }
}
