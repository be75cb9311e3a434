//! What crossplane gets from Python itself, reproduced: `str.isspace`,
//! `str.strip`, `os.path.dirname`/`join`/`split`, `glob.glob`, `repr` and
//! the wording of `OSError`.

use std::io;
use std::path::Path;

/// Python's `str.isspace()` for the bytes a token can hold.
pub(super) fn py_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

pub(super) fn py_lstrip(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| py_space(c)).count();
    &s[n..]
}

pub(super) fn py_rstrip(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&c| py_space(c)).count();
    &s[..s.len() - n]
}

/// Reads a config file; errors worded as Python's `OSError` prints them.
pub(super) fn read_config(name: &str) -> Result<Vec<u8>, String> {
    check_readable(name)?;
    std::fs::read(name).map_err(|e| py_os_error(&e, name))
}

/// Whether `open(name)` would succeed in Python (it refuses directories).
pub(super) fn check_readable(name: &str) -> Result<(), String> {
    match std::fs::metadata(name) {
        Ok(m) if m.is_dir() => Err(format!("[Errno 21] Is a directory: {}", py_repr(name))),
        Ok(_) => std::fs::File::open(name)
            .map(drop)
            .map_err(|e| py_os_error(&e, name)),
        Err(e) => Err(py_os_error(&e, name)),
    }
}

/// `str(OSError)`: `[Errno 2] No such file or directory: 'path'`.
pub(super) fn py_os_error(e: &io::Error, name: &str) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => {
            let suffix = format!(" (os error {code})");
            let text = text.strip_suffix(&suffix).unwrap_or(&text);
            format!("[Errno {code}] {text}: {}", py_repr(name))
        }
        None => format!("{text}: {}", py_repr(name)),
    }
}

/// Python's `repr()` of a string (for paths in error messages).
pub(super) fn py_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// `os.path.dirname`.
pub(super) fn py_dirname(p: &str) -> &str {
    py_split(p).0
}

/// `os.path.join(dir, name)` for a relative `name`.
pub(super) fn py_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// `sorted(glob.glob(pattern))`, as Python 3 computes it: the pattern's
/// directory part is kept as written (`./a/*.conf` gives `./a/x.conf`),
/// directories match too, names starting with `.` only when the pattern
/// component does; sorted as strings.
pub(super) fn py_glob(pattern: &str) -> Vec<String> {
    let mut out = py_iglob(pattern, false);
    out.sort();
    out
}

pub(super) fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `os.path.split`.
pub(super) fn py_split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        None => ("", p),
        Some(i) => {
            let head = &p[..=i];
            let trimmed = head.trim_end_matches('/');
            (if trimmed.is_empty() { head } else { trimmed }, &p[i + 1..])
        }
    }
}

/// Python's `glob._iglob` (not recursive).
pub(super) fn py_iglob(pattern: &str, dir_only: bool) -> Vec<String> {
    let (dir, base) = py_split(pattern);
    if !has_magic(pattern) {
        let found = if base.is_empty() {
            Path::new(dir).is_dir()
        } else {
            std::fs::symlink_metadata(pattern).is_ok()
        };
        return if found {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    if dir.is_empty() {
        return glob_in_dir("", base, dir_only);
    }
    let dirs = if dir != pattern && has_magic(dir) {
        py_iglob(dir, true)
    } else {
        vec![dir.to_string()]
    };
    let mut out = Vec::new();
    for d in dirs {
        let names = if has_magic(base) {
            glob_in_dir(&d, base, dir_only)
        } else {
            let found = if base.is_empty() {
                Path::new(&d).is_dir()
            } else {
                std::fs::symlink_metadata(Path::new(&d).join(base)).is_ok()
            };
            if found {
                vec![base.to_string()]
            } else {
                Vec::new()
            }
        };
        out.extend(names.into_iter().map(|n| py_join(&d, &n)));
    }
    out
}

/// Python's `glob._glob1`: the names in `dir` matching one component.
pub(super) fn glob_in_dir(dir: &str, pattern: &str, dir_only: bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let matcher = glob::Pattern::new(pattern).ok();
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: false,
        require_literal_leading_dot: false,
    };
    let hidden_ok = pattern.starts_with('.');
    entries
        .filter_map(Result::ok)
        .filter(|e| !dir_only || e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| hidden_ok || !n.starts_with('.'))
        .filter(|n| match &matcher {
            Some(m) => m.matches_with(n, options),
            None => n == pattern,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_as_os_path_does_them() {
        assert_eq!(py_dirname("a/b.conf"), "a");
        assert_eq!(py_dirname("/a.conf"), "/");
        assert_eq!(py_dirname("a.conf"), "");
        assert_eq!(py_dirname("a//b.conf"), "a");
        assert_eq!(py_dirname("//a.conf"), "//");
        assert_eq!(py_join("", "x.conf"), "x.conf");
        assert_eq!(py_join("d", "x.conf"), "d/x.conf");
        assert_eq!(py_join("/", "x.conf"), "/x.conf");
    }

    #[test]
    fn repr_and_os_errors_as_python_prints_them() {
        assert_eq!(py_repr("a.conf"), "'a.conf'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a\\b\n"), "'a\\\\b\\n'");
        let e = check_readable("/nonexistent/dir/x.conf").unwrap_err();
        assert_eq!(
            e,
            "[Errno 2] No such file or directory: '/nonexistent/dir/x.conf'"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        assert_eq!(
            check_readable(&d).unwrap_err(),
            format!("[Errno 21] Is a directory: '{d}'")
        );
    }

    #[test]
    fn glob_keeps_the_pattern_spelling_and_sorts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("c/sub.conf")).unwrap();
        std::fs::create_dir_all(d.join("c/.hid")).unwrap();
        for f in [
            "c/b.conf",
            "c/a.conf",
            "c/.h.conf",
            "c/.hid/x.conf",
            "c/z.txt",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let base = d.to_string_lossy();
        let got = py_glob(&format!("{base}/./c/*.conf"));
        let want: Vec<String> = ["a.conf", "b.conf", "sub.conf"]
            .iter()
            .map(|n| format!("{base}/./c/{n}"))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            py_glob(&format!("{base}/c/.*.conf")),
            [format!("{base}/c/.h.conf")]
        );
        assert_eq!(
            py_glob(&format!("{base}/?/.hid/*")),
            [format!("{base}/c/.hid/x.conf")]
        );
        assert!(py_glob(&format!("{base}/*/*/*.nothing")).is_empty());
    }

    #[test]
    fn strip_like_python() {
        assert_eq!(py_lstrip(b" \t\x0bx "), b"x ");
        assert_eq!(py_rstrip(b" x\x1f\r\n"), b" x");
    }
}
