//! TCP data segments on a server's connections, from the kernel's per-socket counters
//! (`ss -ti`: `data_segs_out`, `data_segs_in`). Counting segments shows how well a
//! system batches: one write per reply costs one segment per call, one write per burst
//! a fraction of one.

use std::process::Command;

/// Data segments sent and received by every established socket whose local port is
/// `port` (the server's side of its connections).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Segments {
    /// Segments carrying data from the server.
    pub out: u64,
    /// Segments carrying data to the server.
    pub into: u64,
}

impl Segments {
    /// The segments counted between `earlier` and `self`.
    pub fn since(&self, earlier: &Segments) -> Segments {
        Segments { out: self.out.saturating_sub(earlier.out), into: self.into.saturating_sub(earlier.into) }
    }
}

/// Reads the counters with `ss`; `None` when `ss` is missing or prints no counters.
pub fn snapshot(port: u16) -> Option<Segments> {
    let filter = format!("( sport = :{port} )");
    let out = Command::new("ss").args(["-tinH", "state", "established", &filter]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

fn parse(text: &str) -> Option<Segments> {
    let mut seen = false;
    let mut total = Segments::default();
    for word in text.split_whitespace() {
        if let Some(v) = word.strip_prefix("data_segs_out:") {
            total.out += v.parse::<u64>().ok()?;
            seen = true;
        } else if let Some(v) = word.strip_prefix("data_segs_in:") {
            total.into += v.parse::<u64>().ok()?;
            seen = true;
        }
    }
    seen.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_counters_of_every_socket() {
        let text = "0 0 127.0.0.1:9 127.0.0.1:1\n\t bbr segs_out:5 data_segs_out:4 data_segs_in:7 lastsnd:1\n\
                    0 0 127.0.0.1:9 127.0.0.1:2\n\t data_segs_in:3 data_segs_out:1\n";
        assert_eq!(parse(text), Some(Segments { out: 5, into: 10 }));
        assert_eq!(parse("nothing here"), None);
    }
}
