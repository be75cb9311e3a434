//! Durations as users write them: `500ms`, `30s`, `5m`, `1h`, plain `0`.
//!
//! The same spelling as `bgswitch.toml` uses, so one habit serves both tools.
//! Components may be chained (`1m30s`); fractions and negative values are
//! refused rather than guessed at.

use std::fmt;
use std::time::Duration;

/// Why a duration string was refused. The message is shown after the flag
/// name by clap, so it does not repeat the flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration (write e.g. 500ms, 30s, 5m)")]
    Empty,
    #[error("`{0}` has no unit (write e.g. 500ms, 30s, 5m; only a plain 0 may omit it)")]
    MissingUnit(String),
    #[error("`{0}`: unknown unit `{1}` (use ms, s, m or h)")]
    UnknownUnit(String, String),
    #[error("`{0}`: expected whole numbers with units (write e.g. 1500ms, 30s, 5m)")]
    Malformed(String),
    #[error("`{0}` is too large")]
    Overflow(String),
}

/// Parses `500ms`, `30s`, `5m`, `1h`, `0`, or a chain such as `1m30s`.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.bytes().all(|b| b == b'0') {
        return Ok(Duration::ZERO);
    }
    let bytes = s.as_bytes();
    let mut total_ms: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(DurationError::Malformed(input.to_string()));
        }
        let number: u64 = s[start..i]
            .parse()
            .map_err(|_| DurationError::Overflow(input.to_string()))?;
        if bytes.get(i) == Some(&b'.') {
            // 1.5s: say "malformed" rather than "no unit".
            return Err(DurationError::Malformed(input.to_string()));
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[unit_start..i];
        let factor: u64 = match unit {
            "" => return Err(DurationError::MissingUnit(input.to_string())),
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            other => {
                return Err(DurationError::UnknownUnit(
                    input.to_string(),
                    other.to_string(),
                ))
            }
        };
        let part = number
            .checked_mul(factor)
            .ok_or_else(|| DurationError::Overflow(input.to_string()))?;
        total_ms = total_ms
            .checked_add(part)
            .ok_or_else(|| DurationError::Overflow(input.to_string()))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Displays a duration in the same spelling [`parse`] accepts, choosing the
/// largest unit that represents it exactly (`90s` stays `90s`, `2m` is `2m`).
#[derive(Debug, Clone, Copy)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("h", 3_600_000u128), ("m", 60_000), ("s", 1_000)] {
            if ms.is_multiple_of(size) {
                return write!(f, "{}{}", ms / size, unit);
            }
        }
        write!(f, "{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_unit() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("000"), Ok(Duration::ZERO));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse(" 2s "), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn accepts_chains() {
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h1ms"), Ok(Duration::from_millis(3_600_001)));
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("10"), Err(DurationError::MissingUnit("10".into())));
        assert_eq!(
            parse("5x"),
            Err(DurationError::UnknownUnit("5x".into(), "x".into()))
        );
        assert_eq!(
            parse("3d"),
            Err(DurationError::UnknownUnit("3d".into(), "d".into()))
        );
        assert_eq!(parse("s"), Err(DurationError::Malformed("s".into())));
        assert_eq!(parse("1.5s"), Err(DurationError::Malformed("1.5s".into())));
        assert_eq!(parse("-1s"), Err(DurationError::Malformed("-1s".into())));
        assert!(matches!(
            parse("99999999999999999999h"),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(
            parse("9999999999999999h"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn error_messages_show_the_input() {
        let msg = parse("5x").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("5x") && msg.contains("ms, s, m or h"), "{msg}");
    }

    #[test]
    fn human_round_trips() {
        for text in ["0s", "250ms", "1500ms", "30s", "90s", "5m", "2h"] {
            let d = parse(text).expect("parses");
            assert_eq!(Human(d).to_string(), text);
        }
    }
}
