//! The buffer sizes the proxy, fastcgi, uwsgi and scgi modules check as
//! they merge each location (`ngx_http_proxy_merge_loc_conf` ..., nginx
//! 1.22.1): at least 2 buffers; busy buffers, temp file writes and the
//! temp file's size measured against the larger of `*_buffer_size` and
//! one of `*_buffers`. Each level inherits what it does not set; defaults
//! are one page (4096 on Debian's amd64), 8 buffers of a page, twice the
//! size, 1 GiB. nginx names the http block's `}` line.

use super::numbers::{atoi, parse_size};

/// The modules that have these buffers, in nginx's merge order.
const MODULES: &[&str] = &["proxy", "fastcgi", "uwsgi", "scgi"];
const PAGE: i64 = 4096;

/// What one level sets for one module.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Level {
    buffer_size: Option<i64>,
    bufs: Option<(i64, i64)>,
    busy: Option<i64>,
    temp_write: Option<i64>,
    max_temp: Option<i64>,
}

/// The levels open now (http, server, location ...) and the first
/// refusal of each module, by the order nginx merges the levels in.
#[derive(Debug, Default)]
pub struct Buffers {
    stack: Vec<(usize, [Level; 4])>,
    opened: usize,
    first: [Option<(usize, String)>; 4],
}

impl Buffers {
    /// A level opens: http, or one nginx merges (server, location, `if`,
    /// `limit_except`).
    pub fn open(&mut self) {
        self.opened += 1;
        self.stack.push((self.opened, Default::default()));
    }

    /// A directive of the open level.
    pub fn directive(&mut self, name: &str, args: &[String]) {
        let Some((module, setting)) = name.split_once('_') else {
            return;
        };
        let Some(m) = MODULES.iter().position(|x| *x == module) else {
            return;
        };
        let Some((_, levels)) = self.stack.last_mut() else {
            return;
        };
        let level = &mut levels[m];
        let size = |i: usize| args.get(i).and_then(|a| parse_size(a.as_bytes()));
        match setting {
            "buffer_size" => level.buffer_size = size(0),
            "buffers" => {
                let num = args.first().and_then(|a| atoi(a.as_bytes()));
                level.bufs = num.zip(size(1));
            }
            "busy_buffers_size" => level.busy = size(0),
            "temp_file_write_size" => level.temp_write = size(0),
            "max_temp_file_size" => level.max_temp = size(0),
            _ => {}
        }
    }

    /// The open level closes; `merged` says whether nginx merges it (not
    /// the http level itself).
    pub fn close(&mut self, merged: bool) {
        if merged {
            if let Some(&(ordinal, _)) = self.stack.last() {
                for m in 0..MODULES.len() {
                    let earlier = self.first[m].as_ref().is_some_and(|(o, _)| *o < ordinal);
                    // Nothing set at any open level: nginx's defaults,
                    // which pass (most locations set no buffers).
                    let untouched = self.stack.iter().all(|(_, l)| l[m] == Level::default());
                    if earlier || untouched {
                        continue;
                    }
                    if let Err(message) = self.check(m) {
                        self.first[m] = Some((ordinal, message));
                    }
                }
            }
        }
        self.stack.pop();
    }

    /// The first refusal of the first module that has one, once the http
    /// block is read.
    pub fn take_first(&mut self) -> Option<String> {
        let first = std::mem::take(&mut self.first);
        first.into_iter().flatten().next().map(|(_, m)| m)
    }

    /// Module `m`'s merged values at the open level, checked.
    fn check(&self, m: usize) -> Result<(), String> {
        let get =
            |f: fn(&Level) -> Option<i64>| self.stack.iter().rev().find_map(|(_, l)| f(&l[m]));
        let p = MODULES[m];
        let buffer_size = get(|l| l.buffer_size).unwrap_or(PAGE);
        let (num, one) = self
            .stack
            .iter()
            .rev()
            .find_map(|(_, l)| l[m].bufs)
            .unwrap_or((8, PAGE));
        if num < 2 {
            return Err(format!("there must be at least 2 \"{p}_buffers\""));
        }
        let size = buffer_size.max(one);
        let of = format!(
            "the maximum of the value of \"{p}_buffer_size\" and one of the \"{p}_buffers\""
        );
        let busy = get(|l| l.busy).unwrap_or(2 * size);
        if busy < size {
            return Err(format!(
                "\"{p}_busy_buffers_size\" must be equal to or greater than {of}"
            ));
        }
        if busy > (num - 1) * one {
            return Err(format!(
                "\"{p}_busy_buffers_size\" must be less than the size of all \"{p}_buffers\" minus one buffer"
            ));
        }
        if get(|l| l.temp_write).unwrap_or(2 * size) < size {
            return Err(format!(
                "\"{p}_temp_file_write_size\" must be equal to or greater than {of}"
            ));
        }
        let max_temp = get(|l| l.max_temp).unwrap_or(1 << 30);
        if max_temp != 0 && max_temp < size {
            return Err(format!(
                "\"{p}_max_temp_file_size\" must be equal to zero to disable temporary files \
                 usage or must be equal to or greater than {of}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(levels: &[&[&str]]) -> Option<String> {
        let mut b = Buffers::default();
        for (i, lines) in levels.iter().enumerate() {
            b.open();
            for line in *lines {
                let mut words = line.split_whitespace().map(String::from);
                let name = words.next().unwrap_or_default();
                b.directive(&name, &words.collect::<Vec<_>>());
            }
            if i + 1 == levels.len() {
                for depth in (0..levels.len()).rev() {
                    b.close(depth > 0);
                }
            }
        }
        b.take_first()
    }

    #[test]
    fn merged_buffer_sizes() {
        assert_eq!(run(&[&[], &[], &[]]), None);
        assert_eq!(
            run(&[&["proxy_buffer_size 16k"], &[]]).as_deref(),
            Some("\"proxy_busy_buffers_size\" must be less than the size of all \"proxy_buffers\" minus one buffer")
        );
        assert_eq!(
            run(&[
                &[
                    "proxy_buffer_size 16k",
                    "proxy_buffers 4 16k",
                    "proxy_busy_buffers_size 32k"
                ],
                &[]
            ]),
            None
        );
        assert_eq!(
            run(&[&[], &["fastcgi_buffers 1 4k"]]).as_deref(),
            Some("there must be at least 2 \"fastcgi_buffers\"")
        );
        // the http level alone is never merged
        assert_eq!(run(&[&["proxy_buffers 1 4k"]]), None);
    }
}
