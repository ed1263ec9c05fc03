//! `MockConfig`: the server-wide defaults (pacing, reply length, thinking) and their CLI parsing.

use std::time::Duration;

/// Server-wide defaults; a `[[mock ...]]` directive in a request overrides them per request.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// Delay before the first streamed token.
    pub first_token_delay: Duration,
    /// Tokens per second after the first; 0 or negative means unlimited (no sleeping).
    pub tokens_per_sec: f64,
    /// Number of reply tokens.
    pub tokens: usize,
    /// Number of thinking tokens; 0 means no thinking block.
    pub thinking_tokens: usize,
    /// The API keys accepted; empty: any non-empty key. Others get the API's 401.
    pub api_keys: Vec<String>,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self { first_token_delay: Duration::ZERO, tokens_per_sec: 0.0, tokens: 40, thinking_tokens: 0, api_keys: Vec::new() }
    }
}

impl MockConfig {
    /// Parses `--first-token-ms N --tokens-per-sec F --tokens N --thinking-tokens N`
    /// (each optional, `--flag=value` also accepted). The error names the bad flag.
    pub fn from_args(args: &[String]) -> Result<MockConfig, String> {
        let mut cfg = MockConfig::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f, Some(v.to_string())),
                None => (arg.as_str(), None),
            };
            let mut value = || -> Result<String, String> {
                inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag {
                "--first-token-ms" => {
                    let ms: u64 = parse(flag, &value()?)?;
                    cfg.first_token_delay = Duration::from_millis(ms);
                }
                "--tokens-per-sec" => {
                    let rate: f64 = parse(flag, &value()?)?;
                    if !rate.is_finite() {
                        return Err(format!("{flag}: not a finite number"));
                    }
                    cfg.tokens_per_sec = rate;
                }
                "--tokens" => cfg.tokens = parse(flag, &value()?)?,
                "--thinking-tokens" => cfg.thinking_tokens = parse(flag, &value()?)?,
                other => return Err(format!("unknown flag {other}")),
            }
        }
        Ok(cfg)
    }
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.trim().parse().map_err(|_| format!("{flag}: invalid value {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_flags_give_the_defaults() {
        assert_eq!(MockConfig::from_args(&[]), Ok(MockConfig::default()));
    }

    #[test]
    fn all_flags_are_parsed() {
        let cfg =
            MockConfig::from_args(&args(&["--first-token-ms", "250", "--tokens-per-sec=12.5", "--tokens", "7", "--thinking-tokens", "3"]))
                .unwrap();
        assert_eq!(cfg.first_token_delay, Duration::from_millis(250));
        assert_eq!(cfg.tokens_per_sec, 12.5);
        assert_eq!(cfg.tokens, 7);
        assert_eq!(cfg.thinking_tokens, 3);
    }

    #[test]
    fn a_bad_value_names_its_flag() {
        let err = MockConfig::from_args(&args(&["--tokens", "many"])).unwrap_err();
        assert!(err.contains("--tokens"), "{err}");
    }

    #[test]
    fn a_missing_value_names_its_flag() {
        let err = MockConfig::from_args(&args(&["--thinking-tokens"])).unwrap_err();
        assert!(err.contains("--thinking-tokens"), "{err}");
    }

    #[test]
    fn an_unknown_flag_is_an_error() {
        let err = MockConfig::from_args(&args(&["--speed", "1"])).unwrap_err();
        assert!(err.contains("--speed"), "{err}");
    }
}
