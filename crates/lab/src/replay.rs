//! Trace files and clusters: the parameters a trace file records so that `dme replay` rebuilds
//! the same cluster, and the cluster a trace file describes.

use dme_registry::{ClusterSpec, Params, Registry};
use dme_sim::tracefile::TraceFile;

use crate::simulate::RunSummary;

/// The cluster parameters of `spec` besides algorithm and size, as written in a trace file:
/// every parameter the algorithm declares (as given, or its default) and the seed, so that
/// replay rebuilds exactly the same [`ClusterSpec`].
pub fn parameters<R: Registry>(registry: &R, spec: &ClusterSpec) -> Result<Params, String> {
    let mut p = spec.effective_params(registry.find(spec.algorithm)?);
    p.insert("seed".to_string(), spec.seed.to_string());
    Ok(p)
}

/// The trace file of a simulated run (the run must have had `full_trace` set).
pub fn record<R: Registry>(
    registry: &R,
    spec: &ClusterSpec,
    summary: &RunSummary,
) -> Result<TraceFile, String> {
    Ok(TraceFile::from_report(
        &summary.algorithm,
        summary.structure.as_deref().unwrap_or(""),
        parameters(registry, spec)?,
        &summary.report,
    ))
}

/// The cluster a trace file describes. A parameter of another registered algorithm is
/// ignored: dme 0.1 wrote `quorum`, `tree` and `holder` into every trace file, whatever the
/// algorithm.
pub fn spec_of<R: Registry>(registry: &R, file: &TraceFile) -> Result<ClusterSpec, String> {
    let describe = registry.find(&file.algorithm)?;
    let mut spec = ClusterSpec::new(describe.name(), file.nodes);
    for (key, value) in &file.parameters {
        if key == "seed" {
            spec.seed = value.parse().map_err(|_| {
                format!("the trace file's parameter \"seed\" = {value:?} is invalid: not a number")
            })?;
        } else if let Some(p) = describe.parameters().iter().find(|p| p.name == key) {
            (p.check)(value).map_err(|why| {
                format!("the trace file's parameter \"{key}\" = {value:?} is invalid: {why}")
            })?;
            spec.params.insert(key.clone(), value.clone());
        } else if !registry
            .descriptors()
            .iter()
            .any(|d| d.parameters().iter().any(|p| p.name == key))
        {
            let mut known: Vec<&str> = describe.parameters().iter().map(|p| p.name).collect();
            known.push("seed");
            return Err(format!(
                "the trace file has an unknown cluster parameter \"{key}\" (this dme knows {} for {})",
                known.join(", "),
                describe.name()
            ));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_registry::builtin;
    use std::collections::BTreeMap;

    fn file(algorithm: &str, parameters: &[(&str, &str)]) -> TraceFile {
        let mut f = TraceFile::parse(
            r#"{"format":"dme-trace","version":1,"source":"check","algorithm":"x","nodes":4,
                "structure":"","parameters":{},"config":null,"seed":1,"digest":null,"failure":null,"events":[]}"#,
        )
        .unwrap();
        f.algorithm = algorithm.to_string();
        f.parameters = parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>();
        f
    }

    #[test]
    fn a_trace_file_rebuilds_its_cluster() {
        let r = builtin();
        let spec = spec_of(&r, &file("raymond", &[("tree", "star"), ("seed", "7")])).unwrap();
        assert_eq!(spec.algorithm, "raymond");
        assert_eq!(spec.seed, 7);
        assert_eq!(spec.params.get("tree").map(String::as_str), Some("star"));
        assert_eq!(parameters(&r, &spec).unwrap().len(), 2);
        // Files of dme 0.1 named every algorithm's parameters.
        let old = spec_of(
            &r,
            &file("lamport", &[("quorum", "auto"), ("tree", "binary")]),
        )
        .unwrap();
        assert!(old.params.is_empty());
        let bad = spec_of(&r, &file("maekawa", &[("quorum", "cube")])).unwrap_err();
        assert!(bad.starts_with("the trace file's parameter \"quorum\" = \"cube\" is invalid"));
        let unknown = spec_of(&r, &file("maekawa", &[("colour", "red")])).unwrap_err();
        assert_eq!(
            unknown,
            "the trace file has an unknown cluster parameter \"colour\" (this dme knows quorum, seed for maekawa)"
        );
    }
}
