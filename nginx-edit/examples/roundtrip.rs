use std::io::Read;
fn main() {
    let mut ok = 0;
    let mut bad = 0;
    for p in std::env::args().skip(1) {
        let mut b = Vec::new();
        if p.ends_with(".bz2") {
            continue;
        }
        std::fs::File::open(&p)
            .unwrap()
            .read_to_end(&mut b)
            .unwrap();
        match nginx_edit::Document::parse(&b) {
            Ok(d) => {
                assert_eq!(d.to_bytes(), b, "{p}");
                ok += 1;
            }
            Err(e) => {
                println!("{p}: {e}");
                bad += 1;
            }
        }
    }
    println!("ok={ok} err={bad}");
}
