//! Rate-limited warnings: one line per peer and reason per interval, with a count of the ones
//! left out.

use std::collections::BTreeMap;
use std::time::Duration;

use dme_core::NodeId;
use tokio::time::Instant;

/// Remembers, per (peer, reason), when a line was last let through and how many were held back
/// since.
pub(crate) struct Throttle {
    interval: Duration,
    seen: BTreeMap<(Option<NodeId>, &'static str), (Instant, u64)>,
}

impl Throttle {
    pub fn new(interval: Duration) -> Self {
        Throttle {
            interval,
            seen: BTreeMap::new(),
        }
    }

    /// Whether a line about `peer` and `reason` may be logged now: `Some(suffix)` to append to
    /// it (naming how many were left out since the last one), `None` to stay quiet.
    pub fn admit(&mut self, peer: Option<NodeId>, reason: &'static str) -> Option<String> {
        self.admit_at(peer, reason, Instant::now())
    }

    fn admit_at(
        &mut self,
        peer: Option<NodeId>,
        reason: &'static str,
        now: Instant,
    ) -> Option<String> {
        match self.seen.get_mut(&(peer, reason)) {
            Some((last, held)) if now.duration_since(*last) < self.interval => {
                *held += 1;
                None
            }
            Some((last, held)) => {
                let suffix = if *held > 0 {
                    format!(
                        " ({} more like it in the last {:.1}s not shown)",
                        held,
                        now.duration_since(*last).as_secs_f64()
                    )
                } else {
                    String::new()
                };
                *last = now;
                *held = 0;
                Some(suffix)
            }
            None => {
                self.seen.insert((peer, reason), (now, 0));
                Some(String::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_peer_and_reason_per_interval_with_a_count() {
        let mut t = Throttle::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let p = Some(NodeId(0));
        assert_eq!(t.admit_at(p, "gap", at(0)), Some(String::new()));
        assert_eq!(t.admit_at(p, "gap", at(10)), None);
        assert_eq!(t.admit_at(p, "gap", at(4999)), None);
        assert_eq!(t.admit_at(p, "refused", at(20)), Some(String::new()));
        assert_eq!(
            t.admit_at(Some(NodeId(1)), "gap", at(20)),
            Some(String::new())
        );
        let line = t.admit_at(p, "gap", at(5000)).unwrap();
        assert!(line.contains("2 more like it"), "{line}");
        assert_eq!(t.admit_at(p, "gap", at(5001)), None);
        assert_eq!(
            t.admit_at(p, "gap", at(10000)).unwrap(),
            " (1 more like it in the last 5.0s not shown)"
        );
    }
}
