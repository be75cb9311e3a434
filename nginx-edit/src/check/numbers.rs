//! Numbers, sizes, offsets and times as nginx reads them: `ngx_atoi`
//! (`src/core/ngx_string.c`), `ngx_parse_size`, `ngx_parse_offset` and
//! `ngx_parse_time` (`src/core/ngx_parse.c`), shared by every handler
//! model that reads one.

/// `ngx_atoi`: decimal digits only, no sign, no overflow.
pub fn atoi(s: &[u8]) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0i64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
    })
}

/// A number with an optional unit whose scales are `units`.
fn scaled(s: &[u8], units: &[(u8, i64)]) -> Option<i64> {
    let (&last, head) = s.split_last()?;
    match units.iter().find(|(u, _)| last.to_ascii_lowercase() == *u) {
        Some(&(_, scale)) => atoi(head).and_then(|n| n.checked_mul(scale)),
        None => atoi(s),
    }
}

/// `ngx_parse_size`: `512`, `8k`, `1m`.
pub fn parse_size(s: &[u8]) -> Option<i64> {
    scaled(s, &[(b'k', 1 << 10), (b'm', 1 << 20)])
}

/// `ngx_parse_offset`: `512`, `8k`, `1m`, `2g`.
pub fn parse_offset(s: &[u8]) -> Option<i64> {
    scaled(s, &[(b'k', 1 << 10), (b'm', 1 << 20), (b'g', 1 << 30)])
}

/// `ngx_parse_time`: `30s`, `1h 30m`, `500ms` (not for seconds), units in
/// falling order, each once; a bare number is seconds.
pub fn parse_time(s: &[u8], is_sec: bool) -> Option<i64> {
    // The steps, largest first; `ms` is the last before a bare number.
    const YEAR: u8 = 1;
    const MONTH: u8 = 2;
    const WEEK: u8 = 3;
    const DAY: u8 = 4;
    const HOUR: u8 = 5;
    const MIN: u8 = 6;
    const SEC: u8 = 7;
    const MSEC: u8 = 8;
    const LAST: u8 = 9;
    let mut step = if is_sec { 0 } else { MONTH };
    let (mut value, mut total, mut valid) = (0i64, 0i64, false);
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        i += 1;
        if b.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            valid = true;
            continue;
        }
        let (next, mut scale): (u8, i64) = match b {
            b'y' if step == 0 => (YEAR, 60 * 60 * 24 * 365),
            b'M' if step < MONTH => (MONTH, 60 * 60 * 24 * 30),
            b'w' if step < WEEK => (WEEK, 60 * 60 * 24 * 7),
            b'd' if step < DAY => (DAY, 60 * 60 * 24),
            b'h' if step < HOUR => (HOUR, 60 * 60),
            b'm' if s.get(i) == Some(&b's') => {
                if is_sec || step >= MSEC {
                    return None;
                }
                i += 1;
                (MSEC, 1)
            }
            b'm' if step < MIN => (MIN, 60),
            b's' if step < SEC => (SEC, 1),
            b' ' if step < SEC => (LAST, 1),
            _ => return None,
        };
        step = next;
        if step != MSEC && !is_sec {
            scale *= 1000;
        }
        total = total.checked_add(value.checked_mul(scale)?)?;
        value = 0;
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    if !valid {
        return None;
    }
    if !is_sec {
        value = value.checked_mul(1000)?;
    }
    total.checked_add(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sizes_and_offsets() {
        assert_eq!(atoi(b"0"), Some(0));
        assert_eq!(atoi(b"-1"), None);
        assert_eq!(atoi(b""), None);
        assert_eq!(atoi(b"99999999999999999999"), None);
        assert_eq!(parse_size(b"8k"), Some(8192));
        assert_eq!(parse_size(b"1M"), Some(1 << 20));
        assert_eq!(parse_size(b"1g"), None);
        assert_eq!(parse_size(b"10MB"), None);
        assert_eq!(parse_size(b"k"), None);
        assert_eq!(parse_offset(b"2G"), Some(2 << 30));
    }

    #[test]
    fn times_as_ngx_parse_time_reads_them() {
        assert_eq!(parse_time(b"30", true), Some(30));
        assert_eq!(parse_time(b"30", false), Some(30_000));
        assert_eq!(parse_time(b"1h 30m", true), Some(5400));
        assert_eq!(parse_time(b"1h30m", true), Some(5400));
        assert_eq!(parse_time(b"500ms", false), Some(500));
        assert_eq!(parse_time(b"1s 500ms", false), Some(1500));
        assert_eq!(parse_time(b"500ms", true), None);
        assert_eq!(parse_time(b"1y", false), None);
        assert_eq!(parse_time(b"1y", true), Some(31_536_000));
        assert_eq!(parse_time(b"1M", false), None);
        assert_eq!(parse_time(b"30m 1h", true), None);
        assert_eq!(parse_time(b"10sec", true), None);
        assert_eq!(parse_time(b"s", true), None);
        assert_eq!(parse_time(b"", true), None);
        assert_eq!(parse_time(b"1d", false), Some(86_400_000));
    }
}
