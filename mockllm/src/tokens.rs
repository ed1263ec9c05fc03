//! Deterministic reply and thinking tokens: the same count always yields the same words.
//!
//! Tokens come from a fixed word list picked by a seeded PRNG, so `reply_tokens(n)` is a
//! prefix of `reply_tokens(n + k)`. A retried request gets another variant of the reply
//! ([`reply_tokens_variant`]): the same PRNG draws, each word moved along the list by the
//! variant, so variant k differs from every other variant (up to the list's length) in every
//! word, and a reply spliced from two variants equals none of them. Some words are multi-byte UTF-8 (accents, CJK, emoji)
//! and some tokens end in a newline, so clients' UTF-8 and line handling are exercised.

const WORDS: &[&str] = &[
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "café",
    "naïve",
    "stream",
    "token",
    "server",
    "reply",
    "model",
    "chunk",
    "über",
    "façade",
    "résumé",
    "data",
    "event",
    "🚀",
    "日本語",
    "buffer",
    "signal",
    "€uro",
    "async",
    "rust",
    "mock",
    "piñata",
    "delta",
    "block",
    "coöperate",
    "socket",
    "header",
    "jalapeño",
    "🦀",
    "frame",
    "cursor",
    "Ωmega",
];

const REPLY_SEED: u64 = 0x005e_ed0f_7ec7;
const THINKING_SEED: u64 = 0x7417_c146;

/// The first `count` tokens of the mock reply (of a first attempt); each is a word followed by
/// a space or newline.
pub fn reply_tokens(count: usize) -> Vec<String> {
    reply_tokens_variant(count, 1)
}

/// The mock reply text of `count` tokens (of a first attempt): the concatenation of `reply_tokens(count)`.
pub fn reply_text(count: usize) -> String {
    reply_tokens(count).concat()
}

/// The reply tokens of the `attempt`-th reply to one request (1 and 0 are the first attempt,
/// [`reply_tokens`]). Variants 2 to 40 differ from each other and from the first in every word;
/// variant 41 is variant 2 again, and so on.
pub fn reply_tokens_variant(count: usize, attempt: usize) -> Vec<String> {
    generate_shifted(REPLY_SEED, count, shift(attempt))
}

/// The reply text of the `attempt`-th reply to one request: the concatenation of
/// `reply_tokens_variant(count, attempt)`.
pub fn reply_text_variant(count: usize, attempt: usize) -> String {
    reply_tokens_variant(count, attempt).concat()
}

/// How far along the word list variant `attempt` moves each word: 0 for the first attempt,
/// then 1 to `WORDS.len() - 1` in turn.
fn shift(attempt: usize) -> usize {
    match attempt {
        0 | 1 => 0,
        k => (k - 2) % (WORDS.len() - 1) + 1,
    }
}

/// The first `count` thinking tokens (a different sequence than the reply).
pub fn thinking_tokens(count: usize) -> Vec<String> {
    generate(THINKING_SEED, count)
}

/// The thinking text of `count` tokens: the concatenation of `thinking_tokens(count)`.
pub fn thinking_text(count: usize) -> String {
    thinking_tokens(count).concat()
}

fn generate(seed: u64, count: usize) -> Vec<String> {
    generate_shifted(seed, count, 0)
}

fn generate_shifted(seed: u64, count: usize, shift: usize) -> Vec<String> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            let r = splitmix64(&mut state);
            let word = WORDS[((r % WORDS.len() as u64) as usize + shift) % WORDS.len()];
            let sep = if i > 0 && (r >> 32).is_multiple_of(9) { "\n" } else { " " };
            format!("{word}{sep}")
        })
        .collect()
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_count_gives_the_same_tokens() {
        assert_eq!(reply_tokens(50), reply_tokens(50));
        assert_eq!(reply_tokens(50).len(), 50);
    }

    #[test]
    fn a_shorter_reply_is_a_prefix_of_a_longer_one() {
        assert!(reply_text(100).starts_with(&reply_text(30)));
    }

    #[test]
    fn the_default_reply_has_multi_byte_characters_and_newlines() {
        let text = reply_text(40);
        assert!(text.chars().any(|c| c.len_utf8() > 1), "{text}");
        assert!(text.contains('\n'), "{text}");
    }

    #[test]
    fn thinking_differs_from_the_reply() {
        assert_ne!(thinking_text(20), reply_text(20));
        assert_eq!(thinking_tokens(20).concat(), thinking_text(20));
    }

    #[test]
    fn the_first_variant_is_the_plain_reply() {
        assert_eq!(reply_text_variant(30, 1), reply_text(30));
        assert_eq!(reply_text_variant(30, 0), reply_text(30));
    }

    #[test]
    fn every_word_of_a_later_variant_differs_from_the_other_variants() {
        let variants: Vec<Vec<String>> = (1..=WORDS.len()).map(|k| reply_tokens_variant(60, k)).collect();
        for (a, first) in variants.iter().enumerate() {
            for second in &variants[a + 1..] {
                assert!(first.iter().zip(second).all(|(x, y)| x != y));
            }
        }
        assert_eq!(reply_tokens_variant(5, WORDS.len() + 1), reply_tokens_variant(5, 2), "the variants cycle");
    }

    #[test]
    fn a_reply_spliced_from_two_attempts_equals_no_variant() {
        let (first, second) = (reply_tokens_variant(40, 1), reply_tokens_variant(40, 2));
        for cut in 1..40 {
            let spliced = [&first[..cut], &second[cut..]].concat().concat();
            assert!((1..=WORDS.len()).all(|k| spliced != reply_text_variant(40, k)), "cut at {cut}");
        }
    }

    #[test]
    fn zero_tokens_is_empty() {
        assert!(reply_tokens(0).is_empty());
        assert_eq!(reply_text(0), "");
    }
}
