//! Sample payloads, built from the producer's Rust types, validated against the producer's own
//! schema and every reader's schema of their type.

use std::{collections::BTreeSet, io, path::Path};

use serde_json::Value;

use super::{files, read_schema};
use crate::Event;

/// The reader schemas of `event_type` on `stream`: `(group, schema)` for every
/// `<stream>/<group>/<type>.json` under `root`.
pub fn readers_of(root: &Path, stream: &str, event_type: &str) -> io::Result<Vec<(String, Value)>> {
    let mut readers = Vec::new();
    for group in files::subdirectories(&root.join(stream))? {
        let file = group.join(format!("{event_type}.json"));
        if file.exists() {
            let name = group
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            readers.push((name, read_schema(&file)?));
        }
    }
    Ok(readers)
}

/// Validates samples of the events a producer publishes on one stream.
#[derive(Debug)]
pub struct Samples<'a> {
    root: &'a Path,
    stream: &'a str,
    covered: BTreeSet<String>,
    problems: Vec<String>,
}

/// Samples of the events published on `stream`, checked against the schemas under `root`.
pub fn sample_errors<'a>(root: &'a Path, stream: &'a str) -> Samples<'a> {
    Samples {
        root,
        stream,
        covered: BTreeSet::new(),
        problems: Vec::new(),
    }
}

impl Samples<'_> {
    /// Validates `sample` as its producer serializes it against `<stream>/<type>.json` and
    /// every `<stream>/<group>/<type>.json`.
    pub fn check<E: Event>(mut self, sample: &E) -> Self {
        self.covered.insert(E::TYPE.to_owned());
        if let Err(error) = self.validate(E::TYPE, sample) {
            self.problems.push(format!("{}: {error}", E::TYPE));
        }
        self
    }

    fn validate<E: Event>(&mut self, event_type: &str, sample: &E) -> Result<(), String> {
        let payload = serde_json::to_value(sample).map_err(|error| error.to_string())?;
        let own = self
            .root
            .join(self.stream)
            .join(format!("{event_type}.json"));
        let own = read_schema(&own).map_err(|error| error.to_string())?;
        let readers =
            readers_of(self.root, self.stream, event_type).map_err(|error| error.to_string())?;
        let schemas = std::iter::once(("its producer".to_owned(), own)).chain(
            readers
                .into_iter()
                .map(|(group, schema)| (format!("group {group}"), schema)),
        );
        for (whose, schema) in schemas {
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|error| format!("the schema of {whose} does not compile: {error}"))?;
            for error in validator.iter_errors(&payload) {
                self.problems.push(format!(
                    "{event_type}: the sample {payload} does not fit the schema of {whose}: {error} (at {})",
                    error.instance_path()
                ));
            }
        }
        Ok(())
    }

    /// Every problem found, and every type in `published` without a sample.
    pub fn finish(mut self, published: &BTreeSet<String>) -> Result<(), String> {
        for missing in published.difference(&self.covered) {
            self.problems
                .push(format!("{missing}: no sample payload checks it"));
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems.join("\n"))
        }
    }
}
