#![allow(clippy::unwrap_used)]
use super::*;

const OLD: &[u8] = b"upstream app_blue { server 127.0.0.1:1; }\nmap $x $backend {\n    # default app_green;\n    default app_blue;\n    blue app_blue;\n    green app_green;\n}\nserver { listen 80; }\n";

fn new() -> Vec<u8> {
    String::from_utf8_lossy(OLD)
        .replace("default app_blue;", "default app_green;")
        .into_bytes()
}

fn dump(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, body) in files {
        out.extend_from_slice(format!("# configuration file {path}:\n").as_bytes());
        out.extend_from_slice(body);
        out.push(b'\n');
    }
    out
}

#[test]
fn sections_are_read_as_nginx_writes_them() {
    let d = dump(&[
        ("/etc/nginx/nginx.conf", b"events {}\nhttp {}"),
        ("/a.conf", b"# two\n"),
    ]);
    let s = sections(&d);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].path, "/etc/nginx/nginx.conf");
    assert_eq!(s[0].body, b"events {}\nhttp {}");
    assert_eq!(s[1].body, b"# two\n");
    assert!(sections(b"nginx: [emerg] nothing here\n").is_empty());
}

#[test]
fn the_file_is_found_under_another_path_by_its_content() {
    let new = new();
    let host = Path::new("/srv/deploy/nginx/app.conf");
    let main: &[u8] = b"http { include /etc/nginx/conf.d/*.conf; }";
    let sees_new = dump(&[
        ("/etc/nginx/nginx.conf", main),
        ("/etc/nginx/conf.d/site.conf", &new),
    ]);
    assert_eq!(
        find(&sees_new, host, OLD, &new),
        Seen::New {
            at: "/etc/nginx/conf.d/site.conf".into()
        }
    );
    let stale = dump(&[
        ("/etc/nginx/nginx.conf", main),
        ("/etc/nginx/conf.d/site.conf", OLD),
    ]);
    assert_eq!(
        find(&stale, host, OLD, &new),
        Seen::Old {
            at: "/etc/nginx/conf.d/site.conf".into()
        }
    );
}

#[test]
fn a_copy_that_differs_elsewhere_is_judged_by_the_edited_lines() {
    let new = new();
    let host = Path::new("/srv/app.conf");
    // the container's copy has another listen line, and the old default
    let theirs = String::from_utf8_lossy(OLD)
        .replace("listen 80", "listen 8080")
        .into_bytes();
    assert_eq!(
        find(&dump(&[("/etc/nginx/app.conf", &theirs)]), host, OLD, &new),
        Seen::Old {
            at: "/etc/nginx/app.conf".into()
        }
    );
    let theirs_new = String::from_utf8_lossy(&new)
        .replace("listen 80", "listen 8080")
        .into_bytes();
    assert_eq!(
        find(
            &dump(&[("/etc/nginx/app.conf", &theirs_new)]),
            host,
            OLD,
            &new
        ),
        Seen::New {
            at: "/etc/nginx/app.conf".into()
        }
    );
    // the commented-out `# default app_green;` is not mistaken for the edit
    let unrelated: &[u8] = b"# default app_green;\n";
    assert_eq!(
        find(&dump(&[("/x.conf", unrelated)]), host, OLD, &new),
        Seen::NotFound
    );
}

#[test]
fn a_terminal_s_crlf_is_not_a_difference() {
    let new = new();
    let crlf = String::from_utf8_lossy(&new)
        .replace('\n', "\r\n")
        .into_bytes();
    assert_eq!(
        find(
            &dump(&[("/etc/nginx/app.conf", &crlf)]),
            Path::new("/h/app.conf"),
            OLD,
            &new
        ),
        Seen::New {
            at: "/etc/nginx/app.conf".into()
        }
    );
}

#[test]
fn the_host_path_is_asked_first() {
    let new = new();
    let host = Path::new("/etc/nginx/sites-available/app.conf");
    // a stale copy elsewhere, the real file at the host path
    let d = dump(&[
        ("/old/app.conf", OLD),
        ("/etc/nginx/sites-available/app.conf", &new),
    ]);
    assert_eq!(
        find(&d, host, OLD, &new),
        Seen::New {
            at: host.display().to_string()
        }
    );
}

#[test]
fn edited_region_is_whole_lines_with_context() {
    let new = new();
    let (o, n) = edited_region(OLD, &new).unwrap();
    let (o, n) = (String::from_utf8_lossy(o), String::from_utf8_lossy(n));
    assert_eq!(
        o,
        "map $x $backend {\n    # default app_green;\n    default app_blue;\n    blue app_blue;\n    green app_green;\n"
    );
    assert_eq!(n, o.replace("default app_blue;", "default app_green;"));
    assert_eq!(edited_region(OLD, OLD), None);
    // at the very start and the very end
    assert_eq!(edited_region(b"a", b"b"), Some((&b"a"[..], &b"b"[..])));
}

#[test]
fn the_dump_command_is_the_test_command_with_capital_t() {
    let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        dump_from_test(&v(&["nginx", "-t"])),
        Some(v(&["nginx", "-T"]))
    );
    assert_eq!(
        dump_from_test(&v(&["nginx", "-q", "-t", "-p", "/x", "-c", "/x/n.conf"])),
        Some(v(&["nginx", "-q", "-T", "-p", "/x", "-c", "/x/n.conf"]))
    );
    assert_eq!(
        dump_from_test(&v(&["docker", "exec", "-t", "proxy", "nginx", "-qt"])),
        Some(v(&["docker", "exec", "-t", "proxy", "nginx", "-qT"]))
    );
    assert_eq!(dump_from_test(&v(&["./test-nginx.sh"])), None);
    assert_eq!(dump_from_test(&v(&["sh", "-c", "nginx -t"])), None);
    // -c takes a value: `-tc` is not a group of flags only
    assert_eq!(dump_from_test(&v(&["nginx", "-tc", "x"])), None);
}

#[test]
fn dumps_are_read_whole_and_failures_named() {
    let argv = |s: &str| vec!["sh".to_string(), "-c".to_string(), s.to_string()];
    let big = run_dump(
        &argv("head -c 200000 /dev/zero; echo warn >&2"),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(big.len(), 200_000);
    let e = run_dump(
        &argv("echo 'nginx: [emerg] no' >&2; exit 1"),
        Duration::from_secs(10),
    )
    .unwrap_err();
    assert!(
        e.contains("[emerg] no") && e.contains("exit status: 1"),
        "{e}"
    );
    let e = run_dump(&["/nonexistent/nginx".to_string()], Duration::from_secs(10)).unwrap_err();
    assert!(e.contains("could not start"), "{e}");
}
