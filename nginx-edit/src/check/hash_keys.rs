//! The keys of nginx's name hashes as `ngx_hash_add_key` takes them
//! (`src/core/ngx_hash.c`, 1.22.1), for the handlers that report its
//! refusals: `map` and `valid_referers` (`conflicting parameter "x"`,
//! `invalid hostname or wildcard "x"`). Keys are lowered first, in place:
//! nginx's messages show them so.

/// Where a key goes: the exact table, or a wildcard one, as
/// (table, name) pairs (`.x` is both the exact `x` and the head `x`);
/// `None` when nginx declines it (`NGX_DECLINED`).
pub fn slots(lower: &[u8], wildcard: bool) -> Option<Vec<(&'static str, Vec<u8>)>> {
    if !wildcard {
        return Some(vec![("exact", lower.to_vec())]);
    }
    let stars = lower.iter().filter(|&&b| b == b'*').count();
    if stars > 1 || lower.windows(2).any(|w| w == b"..") || lower.contains(&0) {
        return None;
    }
    match lower {
        [b'.', rest @ ..] if !rest.is_empty() => {
            Some(vec![("exact", rest.to_vec()), ("head", rest.to_vec())])
        }
        // `*.` alone is too short to be a wildcard (nginx wants 3 bytes)
        [b'*', b'.', rest @ ..] if !rest.is_empty() => Some(vec![("head", rest.to_vec())]),
        [rest @ .., b'.', b'*'] if lower.len() > 2 => Some(vec![("tail", rest.to_vec())]),
        _ if stars > 0 => None,
        _ => Some(vec![("exact", lower.to_vec())]),
    }
}

/// A hash's keys so far, as (table, name) pairs.
#[derive(Debug, Default)]
pub struct Keys(std::collections::HashSet<(&'static str, Vec<u8>), crate::directives::FastHash>);

/// `ngx_hash_init` for the variables hash (`*_variables_init_vars`).
pub fn variables_hash(max: Option<i64>, bucket: Option<i64>, longest: usize) -> Result<(), String> {
    hash_init("variables_hash", max, bucket, longest)
}

/// `ngx_hash_init`'s refusals for hash `name`: `max_size` not 0, the
/// bucket (aligned to the cache line; 64 by default) at most 65536 - 64
/// and large enough for the longest key.
pub fn hash_init(
    name: &str,
    max: Option<i64>,
    bucket: Option<i64>,
    longest: usize,
) -> Result<(), String> {
    if max == Some(0) {
        return Err(format!(
            "could not build {name}, you should increase {name}_max_size: 0"
        ));
    }
    let bucket = (bucket.unwrap_or(64) + 63) / 64 * 64;
    if bucket > 65536 - 64 {
        return Err(format!(
            "could not build {name}, too large {name}_bucket_size: {bucket}"
        ));
    }
    let elt = 8 + (longest as i64 + 2 + 7) / 8 * 8;
    if bucket < elt + 8 {
        return Err(format!(
            "could not build {name}, you should increase {name}_bucket_size: {bucket}"
        ));
    }
    Ok(())
}

impl Keys {
    /// The length of the longest key nginx hashes: an exact name, or a
    /// label of a wildcard (its hashes are keyed by labels).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn longest_key(&self) -> usize {
        self.0
            .iter()
            .flat_map(|(table, name)| match *table {
                "exact" => vec![name.len()],
                _ => name.split(|&b| b == b'.').map(<[u8]>::len).collect(),
            })
            .max()
            .unwrap_or(0)
    }

    /// Adds `key`; `Err` is nginx's message for the one refused.
    pub fn add(&mut self, key: &[u8], wildcard: bool) -> Result<(), String> {
        let lower = key.to_ascii_lowercase();
        let shown = String::from_utf8_lossy(&lower).into_owned();
        match slots(&lower, wildcard) {
            None => Err(format!("invalid hostname or wildcard \"{shown}\"")),
            Some(slots) => {
                for slot in slots {
                    if !self.0.insert(slot) {
                        return Err(format!("conflicting parameter \"{shown}\""));
                    }
                }
                Ok(())
            }
        }
    }
}

/// `valid_referers`' keys (`ngx_http_valid_referers`): each host (before
/// any `/`) a wildcard key of the block's one hash, whose earlier keys
/// are in `block` as markers.
pub fn valid_referers(args: &[String], block: &mut super::proxy_args::Block) -> Result<(), String> {
    for a in args {
        if a.is_empty() {
            return Err("invalid referer \"\"".into());
        }
        if matches!(a.as_str(), "none" | "blocked" | "server_names") || a.starts_with('~') {
            continue;
        }
        let host = a.split('/').next().unwrap_or_default();
        let lower = host.to_ascii_lowercase();
        let shown = || lower.clone();
        let Some(slots) = slots(lower.as_bytes(), true) else {
            return Err(format!("invalid hostname or wildcard \"{}\"", shown()));
        };
        for (table, name) in slots {
            let marker = format!("valid_referers {table} {}", String::from_utf8_lossy(&name));
            if block.iter().any(|(k, _)| *k == marker) {
                return Err(format!("conflicting parameter \"{}\"", shown()));
            }
            block.push((marker.into(), "valid_referers".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_hash_sizes() {
        let increase = |what: &str, n: i64| {
            Err(format!(
                "could not build variables_hash, you should increase variables_hash_{what}: {n}"
            ))
        };
        assert_eq!(variables_hash(None, None, 26), Ok(()));
        assert_eq!(variables_hash(Some(0), None, 26), increase("max_size", 0));
        assert_eq!(
            variables_hash(None, Some(0), 26),
            increase("bucket_size", 0)
        );
        // 33 aligns to 64, which holds names up to 46 bytes
        assert_eq!(variables_hash(None, Some(33), 46), Ok(()));
        assert_eq!(
            variables_hash(None, Some(33), 47),
            increase("bucket_size", 64)
        );
        assert_eq!(
            variables_hash(None, Some(100_000), 26),
            Err(
                "could not build variables_hash, too large variables_hash_bucket_size: 100032"
                    .into()
            )
        );
    }

    #[test]
    fn keys_as_ngx_hash_add_key_takes_them() {
        let mut k = Keys::default();
        assert_eq!(k.add(b".Example.com", true), Ok(()));
        assert_eq!(
            k.add(b"*.example.com", true),
            Err("conflicting parameter \"*.example.com\"".into())
        );
        assert_eq!(
            k.add(b"example.COM", true),
            Err("conflicting parameter \"example.com\"".into())
        );
        assert_eq!(k.add(b"www.example.*", true), Ok(()));
        assert_eq!(
            k.add(b"w*w.example.com", true),
            Err("invalid hostname or wildcard \"w*w.example.com\"".into())
        );
        assert_eq!(k.add(b"*.x", false), Ok(()));
        assert_eq!(
            k.add(b"*.X", false),
            Err("conflicting parameter \"*.x\"".into())
        );
    }

    #[test]
    fn keys_fit_a_bucket() {
        let fits = |n, b| hash_init("map_hash", None, b, n);
        let increase = |b: i64| {
            Err(format!(
                "could not build map_hash, you should increase map_hash_bucket_size: {b}"
            ))
        };
        assert_eq!(fits(46, None), Ok(()));
        assert_eq!(fits(47, None), increase(64));
        assert_eq!(fits(47, Some(100)), Ok(()));
        assert_eq!(fits(200, Some(100)), increase(128));
        assert_eq!(fits(0, Some(0)), increase(0));
    }

    #[test]
    fn referers_share_one_hash_per_block() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let mut block = Vec::new();
        assert_eq!(
            valid_referers(&args("none *.a.com b.com/x"), &mut block),
            Ok(())
        );
        assert_eq!(
            valid_referers(&args("B.com/y"), &mut block),
            Err("conflicting parameter \"b.com\"".into())
        );
    }
}
