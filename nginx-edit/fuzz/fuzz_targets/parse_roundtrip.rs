//! Any bytes: `Document::parse` never panics; when it succeeds, printing
//! returns the input byte for byte and reading every directive works. The
//! same for a map-body file (`ParseMode::KeyValue`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nginx_edit::{Document, ParseMode};

fuzz_target!(|data: &[u8]| {
    match Document::parse(data) {
        Ok(doc) => {
            assert_eq!(doc.to_bytes(), data);
            for d in doc.walk() {
                let _ = (d.name(), d.header_span(), d.line_col(), d.lua_body());
                for a in d.args() {
                    let _ = a.value();
                }
            }
        }
        Err(e) => {
            assert!(e.offset <= data.len());
            let _ = e.to_string();
        }
    }
    if let Ok(doc) = Document::parse_owned(data.to_vec(), ParseMode::KeyValue) {
        assert_eq!(doc.as_bytes(), data);
    }
});
