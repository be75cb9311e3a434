//! `log_format`'s own compiler (`ngx_http_log_compile_format`, and
//! `ngx_stream_log_compile_format`, which reads formats the same way):
//! not the script compiler of other directives, so its refusals differ
//! (`${}` is `invalid parameter "${}"`, and `$1` is a variable named `1`).

use super::variables::{reference, unclosed, Reference};

/// The `escape=` values nginx 1.22 knows.
const ESCAPES: &[&str] = &["default", "json", "none"];

/// A format's parts after its name (`escape=...`, then the strings):
/// nginx's first refusal, or the variables the format indexes.
pub fn compile(parts: &[String]) -> Result<Vec<String>, String> {
    let mut parts = parts;
    if let Some(escape) = parts.first().and_then(|p| p.strip_prefix("escape=")) {
        if !ESCAPES.contains(&escape) {
            return Err(format!("unknown log format escaping \"{escape}\""));
        }
        parts = &parts[1..];
    }
    let mut names = Vec::new();
    for part in parts {
        variables(part, &mut names)?;
    }
    Ok(names)
}

/// One string of a format: `$name`, `${name}`, and text between them.
fn variables(text: &str, names: &mut Vec<String>) -> Result<(), String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match reference(text, i + 1) {
            Reference::Name(name, end) => {
                names.push(name.to_string());
                i = end;
            }
            Reference::Unclosed(name) => return Err(unclosed(name)),
            // nginx prints the rest of the argument from the `$` on.
            Reference::Empty => return Err(format!("invalid parameter \"{}\"", &text[i..])),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(parts: &[&str]) -> Result<Vec<String>, String> {
        compile(&parts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn formats_as_the_log_module_compiles_them() {
        assert_eq!(
            run(&["escape=json", "{\"a\":\"$remote_addr\",\"t\":\"${msec}s\"}"]),
            Ok(vec!["remote_addr".into(), "msec".into()])
        );
        assert_eq!(run(&["$1 x"]), Ok(vec!["1".into()]));
        let invalid = |s: &str| Err(format!("invalid parameter \"{s}\""));
        assert_eq!(run(&["$uri $"]), invalid("$"));
        assert_eq!(run(&["a $ b"]), invalid("$ b"));
        assert_eq!(run(&["${}"]), invalid("${}"));
        assert_eq!(run(&["x${"]), invalid("${"));
        assert_eq!(run(&["${uri}$-"]), invalid("$-"));
        assert_eq!(
            run(&["${remote_addr x}"]),
            Err("the closing bracket in \"remote_addr\" variable is missing".into())
        );
        assert_eq!(
            run(&["escape=html", "$uri"]),
            Err("unknown log format escaping \"html\"".into())
        );
        // only the first part may be escape=
        assert_eq!(run(&["$uri", "escape=x"]), Ok(vec!["uri".into()]));
    }
}
