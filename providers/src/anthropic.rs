//! Anthropic Messages API streaming client (to be written).
