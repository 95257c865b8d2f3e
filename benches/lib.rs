//! Shared pieces of the dme benchmarks: a criterion [`Measurement`] that counts network
//! messages instead of time, and the workloads the benchmarks run.
//!
//! # Counting messages with criterion
//!
//! [`Messages`] is a measurement whose value is a number of network messages. A benchmark
//! measured with it reports, through [`Bencher::iter_custom`](criterion::Bencher::iter_custom),
//! the messages that `iters` complete simulated runs sent (one iteration = one run):
//!
//! ```no_run
//! use criterion::{Criterion, Throughput};
//! use dme_benches::Messages;
//!
//! let mut c = Criterion::default().with_measurement(Messages);
//! let mut group = c.benchmark_group("messages/light");
//! group.throughput(Throughput::Elements(64)); // entries per run
//! group.bench_function("ricart-agrawala/64", |b| {
//!     b.iter_custom(|iters| iters * 64 * 126) // the messages of `iters` runs
//! });
//! ```
//!
//! criterion then prints the messages of one run (`time:`, in messages) and, with
//! [`Throughput::Elements`] set to the run's critical-section entries, the messages per entry
//! (`thrpt:`, in messages/entry). The simulator is deterministic, so every run of a benchmark
//! sends exactly the same number of messages and the three figures of each line (criterion's
//! confidence interval) are equal; repeated `cargo bench` runs report the same numbers.

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// A criterion measurement counting network messages (use it with `iter_custom` only: the
/// [`start`](Measurement::start)/[`end`](Measurement::end) pair that `iter` would use measures
/// nothing and returns zero).
#[derive(Clone, Copy, Debug, Default)]
pub struct Messages;

impl Measurement for Messages {
    type Intermediate = ();
    type Value = u64;

    fn start(&self) -> Self::Intermediate {}

    fn end(&self, _: Self::Intermediate) -> Self::Value {
        0
    }

    fn add(&self, v1: &Self::Value, v2: &Self::Value) -> Self::Value {
        v1 + v2
    }

    fn zero(&self) -> Self::Value {
        0
    }

    fn to_f64(&self, value: &Self::Value) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &MessagesFormatter
    }
}

/// Formats message counts: exact numbers on the command line (`31426560 messages`,
/// `3069 messages/entry`), and a readable scale (messages, thousands or millions of messages)
/// on the HTML report's axes.
#[derive(Clone, Copy, Debug, Default)]
pub struct MessagesFormatter;

/// The number of elements a throughput divides by.
fn elements(throughput: &Throughput) -> f64 {
    match *throughput {
        Throughput::Elements(e) | Throughput::ElementsAndBytes { elements: e, .. } => e as f64,
        Throughput::Bytes(b) | Throughput::BytesDecimal(b) => b as f64,
        Throughput::Bits(b) => b as f64,
    }
}

/// The unit of messages per throughput element.
fn per_unit(throughput: &Throughput) -> &'static str {
    match throughput {
        Throughput::Elements(_) | Throughput::ElementsAndBytes { .. } => "messages/entry",
        Throughput::Bytes(_) | Throughput::BytesDecimal(_) => "messages/byte",
        Throughput::Bits(_) => "messages/bit",
    }
}

/// `v` exactly when it is a whole number, else with three decimals (trailing zeros dropped).
pub fn exact(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl ValueFormatter for MessagesFormatter {
    fn format_value(&self, value: f64) -> String {
        format!("{} messages", exact(value))
    }

    fn format_throughput(&self, throughput: &Throughput, value: f64) -> String {
        let per = elements(throughput);
        let v = if per > 0.0 { value / per } else { value };
        format!("{} {}", exact(v), per_unit(throughput))
    }

    fn scale_values(&self, typical_value: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical_value >= 1e7 {
            (1e6, "million messages")
        } else if typical_value >= 1e4 {
            (1e3, "thousand messages")
        } else {
            (1.0, "messages")
        };
        for v in values {
            *v /= factor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        _typical_value: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per = elements(throughput);
        if per > 0.0 {
            for v in values {
                *v /= per;
            }
        }
        per_unit(throughput)
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "messages"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_messages() {
        let f = MessagesFormatter;
        assert_eq!(f.format_value(31_426_560.0), "31426560 messages");
        assert_eq!(
            f.format_throughput(&Throughput::Elements(10_240), 31_426_560.0),
            "3069 messages/entry"
        );
        assert_eq!(
            f.format_throughput(&Throughput::Elements(2560), 52_282.0),
            "20.423 messages/entry"
        );
        let mut v = [2.0e7, 3.0e7];
        assert_eq!(f.scale_values(2.5e7, &mut v), "million messages");
        assert_eq!(v, [20.0, 30.0]);
        let mut v = [900.0];
        assert_eq!(
            f.scale_throughputs(900.0, &Throughput::Elements(100), &mut v),
            "messages/entry"
        );
        assert_eq!(v, [9.0]);
        let mut v = [5.0];
        assert_eq!(f.scale_for_machines(&mut v), "messages");
        assert_eq!(v, [5.0]);
    }

    #[test]
    fn the_measurement_adds_counts() {
        let m = Messages;
        assert_eq!(m.add(&m.zero(), &7), 7);
        assert_eq!(m.to_f64(&12), 12.0);
        m.start();
        assert_eq!(m.end(()), 0);
    }
}
