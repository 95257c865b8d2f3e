//! What a simulated run is: network, workload, and the bounds of the run.

use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A distribution of non-negative integer durations, in ticks.
///
/// Written and parsed as `constant:10` (or just `10`), `uniform:5..15` (both ends included) and
/// `exp:10` (exponential with mean 10, rounded to the nearest tick).
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dist {
    /// Always the same value.
    Constant(u64),
    /// Uniform over `lo..=hi`.
    Uniform {
        /// Smallest value.
        lo: u64,
        /// Largest value (included).
        hi: u64,
    },
    /// Exponential with the given mean, rounded to the nearest tick.
    Exponential {
        /// The mean, in ticks.
        mean: f64,
    },
}

impl Dist {
    /// Draws one value.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        match *self {
            Dist::Constant(v) => v,
            Dist::Uniform { lo, hi } => rng.random_range(lo..=hi),
            Dist::Exponential { mean } => {
                let u: f64 = rng.random();
                // 1 - u lies in (0, 1], so the logarithm is finite.
                (-mean * (1.0 - u).ln()).round() as u64
            }
        }
    }

    /// Whether every draw is the same value.
    pub fn is_constant(&self) -> bool {
        matches!(self, Dist::Constant(_))
    }

    /// The mean of the distribution.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v as f64,
            Dist::Uniform { lo, hi } => (lo as f64 + hi as f64) / 2.0,
            Dist::Exponential { mean } => mean,
        }
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Constant(v) => write!(f, "constant:{v}"),
            Dist::Uniform { lo, hi } => write!(f, "uniform:{lo}..{hi}"),
            Dist::Exponential { mean } => write!(f, "exp:{mean}"),
        }
    }
}

impl FromStr for Dist {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "malformed distribution '{s}': {why} (expected constant:T, uniform:LO..HI or exp:MEAN)"
            )
        };
        let (name, arg) = s.split_once(':').unwrap_or(("constant", s));
        match name {
            "constant" | "const" => arg
                .trim()
                .parse()
                .map(Dist::Constant)
                .map_err(|_| bad("the value must be a non-negative integer")),
            "uniform" => {
                let (lo, hi) = arg
                    .split_once("..")
                    .ok_or_else(|| bad("a uniform range is written LO..HI"))?;
                let lo: u64 = lo
                    .trim()
                    .parse()
                    .map_err(|_| bad("LO must be a non-negative integer"))?;
                let hi: u64 = hi
                    .trim()
                    .parse()
                    .map_err(|_| bad("HI must be a non-negative integer"))?;
                if lo > hi {
                    return Err(bad("LO must not exceed HI"));
                }
                Ok(Dist::Uniform { lo, hi })
            }
            "exp" | "exponential" => {
                let mean: f64 = arg
                    .trim()
                    .parse()
                    .map_err(|_| bad("the mean must be a number"))?;
                if !(mean.is_finite() && mean >= 0.0) {
                    return Err(bad("the mean must be finite and non-negative"));
                }
                Ok(Dist::Exponential { mean })
            }
            _ => Err(bad("unknown distribution")),
        }
    }
}

/// How the local applications ask for the critical section.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// At most one request outstanding in the whole cluster: the next request (from a node
    /// drawn at random among those with requests left) is issued once the previous critical
    /// section is over and no message is in flight.
    Light,
    /// Every node requests at time 0 and again the moment it leaves the critical section.
    Heavy,
    /// Every node thinks for a time drawn from `think`, requests, and after leaving thinks
    /// again.
    Random {
        /// The think time before each request.
        think: Dist,
    },
    /// A hand-made situation: requests at given times (see [`Scenario`]).
    Scripted(Scenario),
}

impl Workload {
    /// The workload's short name: `light`, `heavy`, `random` or `scripted`.
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Light => "light",
            Workload::Heavy => "heavy",
            Workload::Random { .. } => "random",
            Workload::Scripted(_) => "scripted",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Workload::Random { think } => write!(f, "random (think {think})"),
            Workload::Scripted(s) => {
                let n = s.requests.len();
                write!(f, "scripted ({n} request{})", if n == 1 { "" } else { "s" })
            }
            other => f.write_str(other.name()),
        }
    }
}

/// One line of a scenario: at `at`, node `node` asks for the critical section.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ScriptedRequest {
    /// When the request is issued (if the node is still busy with an earlier request then, it is
    /// issued as soon as that one's critical section is over).
    pub at: u64,
    /// The requesting node's index.
    pub node: u32,
    /// How long it holds the critical section; the run's `cs_time` when absent.
    pub cs_time: Option<u64>,
}

/// A scripted workload, read from a text file with one request per line:
///
/// ```text
/// # comments and blank lines are ignored
/// at 0 node 1 requests
/// at 0 node 2 requests cs 20     # holds the critical section for 20 ticks
/// at 35 node 0 requests
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Scenario {
    /// The requests, in file order.
    pub requests: Vec<ScriptedRequest>,
}

impl Scenario {
    /// Parses the text format above; errors name the line.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let mut requests = Vec::new();
        for (number, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                format!(
                    "scenario line {}: {why}: '{}' (expected 'at T node I requests [cs D]')",
                    number + 1,
                    raw.trim()
                )
            };
            let words: Vec<&str> = line.split_whitespace().collect();
            let number_at = |i: usize, what: &str| -> Result<u64, String> {
                words
                    .get(i)
                    .ok_or_else(|| bad(&format!("missing {what}")))?
                    .parse::<u64>()
                    .map_err(|_| bad(&format!("{what} must be a non-negative integer")))
            };
            if words.first() != Some(&"at") || words.get(2) != Some(&"node") {
                return Err(bad("unrecognised line"));
            }
            let at = number_at(1, "time")?;
            let node = u32::try_from(number_at(3, "node")?).map_err(|_| bad("node too large"))?;
            if !matches!(words.get(4), Some(&"requests") | Some(&"request")) {
                return Err(bad("expected 'requests' after the node"));
            }
            let cs_time = match words.get(5) {
                None => None,
                Some(&"cs") => Some(number_at(6, "critical-section time")?),
                Some(_) => return Err(bad("unexpected words after 'requests'")),
            };
            if words.len() > if cs_time.is_some() { 7 } else { 5 } {
                return Err(bad("unexpected words at the end"));
            }
            requests.push(ScriptedRequest { at, node, cs_time });
        }
        if requests.is_empty() {
            return Err("scenario has no requests".into());
        }
        Ok(Scenario { requests })
    }
}

/// Everything that defines a simulated run besides the nodes themselves. The same `Config` and
/// nodes always give the same run.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Config {
    /// The seed of the run's only source of randomness.
    pub seed: u64,
    /// The delay of each network message.
    pub delay: Dist,
    /// Whether messages between an ordered pair of nodes are delivered in the order sent.
    pub fifo: bool,
    /// How the nodes ask for the critical section.
    pub workload: Workload,
    /// How long a node holds the critical section, in ticks.
    pub cs_time: u64,
    /// Critical-section entries each node asks for (ignored by scripted workloads).
    pub requests_per_node: u32,
    /// Stop the run at this virtual time; requests still outstanding then are a liveness
    /// failure. `None`: run until no event is left.
    pub max_time: Option<u64>,
    /// Keep every event of the run in [`Report::trace`](crate::Report::trace).
    pub full_trace: bool,
    /// How many of the last events are kept for a failure report.
    pub trace_tail: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            delay: Dist::Constant(10),
            fifo: true,
            workload: Workload::Heavy,
            cs_time: 5,
            requests_per_node: 10,
            max_time: None,
            full_trace: false,
            trace_tail: 40,
        }
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}, load {}, delay {}, {}, cs-time {}",
            self.seed,
            self.workload,
            self.delay,
            if self.fifo { "FIFO" } else { "no FIFO" },
            self.cs_time,
        )?;
        // A scenario says itself how many requests each node makes.
        if !matches!(self.workload, Workload::Scripted(_)) {
            let r = self.requests_per_node;
            write!(f, ", {r} request{} per node", if r == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_parse_and_print() {
        for s in ["constant:10", "uniform:5..15", "exp:10"] {
            assert_eq!(s.parse::<Dist>().unwrap().to_string(), s);
        }
        assert_eq!("7".parse::<Dist>(), Ok(Dist::Constant(7)));
        for bad in [
            "",
            "uniform:9..3",
            "uniform:3",
            "exp:-1",
            "poisson:3",
            "constant:x",
        ] {
            assert!(bad.parse::<Dist>().is_err(), "{bad}");
        }
    }

    #[test]
    fn scenarios_parse_with_line_numbers_in_errors() {
        let s = Scenario::parse("# demo\nat 0 node 1 requests\n\nat 3 node 2 requests cs 20 # x\n")
            .unwrap();
        assert_eq!(
            s.requests,
            vec![
                ScriptedRequest {
                    at: 0,
                    node: 1,
                    cs_time: None
                },
                ScriptedRequest {
                    at: 3,
                    node: 2,
                    cs_time: Some(20)
                },
            ]
        );
        let err = Scenario::parse("at 0 node 1 requests\nat x node 1 requests").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(Scenario::parse("# nothing").is_err());
        assert!(Scenario::parse("at 1 node 1 requests cs").is_err());
    }
}
