//! Any bytes that parse: an empty edit is the identity, and the blue-green
//! edits (`map_set_default` on every map, `upstream_only` and
//! `upstream_replace` on every upstream) never panic and, when they
//! succeed, give a document that parses again and reads back the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nginx_edit::Document;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse(data) else {
        return;
    };
    let same = doc.apply(&[]).expect("an empty edit re-parses");
    assert_eq!(same.as_bytes(), data);

    for map in doc.maps() {
        let var = map.variable();
        if let Ok(edited) = doc.map_set_default(&var, "app_green") {
            let again = Document::parse(edited.as_bytes()).expect("edited map parses");
            if let Ok(m) = again.map(&var) {
                assert_eq!(m.default().as_deref(), Some("app_green"));
            }
        }
    }
    for up in doc.upstreams() {
        let name = up.name();
        for s in up.servers() {
            if let Ok(edited) = doc.upstream_only(&name, &s.address, None) {
                Document::parse(edited.as_bytes()).expect("edited upstream parses");
            }
            if let Ok(edited) = doc.upstream_replace(&name, &s.address, "10.9.9.9:80") {
                Document::parse(edited.as_bytes()).expect("edited upstream parses");
            }
        }
    }
});
