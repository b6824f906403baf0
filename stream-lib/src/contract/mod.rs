//! The event contracts in `docs/events` (feature `schemas`, for tests): JSON Schemas generated
//! from the Rust types, written or checked by each crate's tests, and the checks that every
//! reader's needs are met by its producer.
//!
//! Layout, under `docs/events`: `envelope.json` and `dead-letter.json` (the stream entry's
//! fields as stored in Redis); `<stream>/<type>.json`, the payload its producer sends;
//! `<stream>/<group>/<type>.json`, the payload consumer group `<group>` reads (its tolerant
//! reader: only the fields it uses).

mod compat;
mod envelope;
mod files;
mod samples;

pub use compat::unmet_needs;
pub use envelope::{DeadLetterFields, EnvelopeFields, envelope_schemas};
pub use files::{SchemaFiles, payload_schema, read_schema};
pub use samples::{Samples, readers_of, sample_errors};

use std::path::{Path, PathBuf};

/// The repository's `docs/events`, from a crate's manifest directory (every crate of the
/// workspace sits one level below the root).
pub fn docs_dir(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir).join("../docs/events")
}

/// Every reader's needs checked against its producer's schema, for every `<stream>/<group>/`
/// under `root`: one message per unmet need (a type nobody publishes, a field the producer
/// does not always send, an incompatible type).
pub fn unmet_reader_needs(root: &Path) -> Result<Vec<String>, std::io::Error> {
    let mut problems = Vec::new();
    for stream in files::subdirectories(root)? {
        for group in files::subdirectories(&stream)? {
            for reader in files::json_files(&group)? {
                let name = reader.file_name().unwrap_or_default();
                let producer = stream.join(name);
                let shown = reader
                    .strip_prefix(root)
                    .unwrap_or(&reader)
                    .display()
                    .to_string();
                if !producer.exists() {
                    problems.push(format!("{shown}: no producer publishes this type"));
                    continue;
                }
                let needs = unmet_needs(&read_schema(&producer)?, &read_schema(&reader)?);
                problems.extend(needs.into_iter().map(|need| format!("{shown}: {need}")));
            }
        }
    }
    Ok(problems)
}

/// The `const TYPE` strings declared in a Rust source file (`include_str!("published.rs")`), to
/// check that every event type in the code has a schema.
pub fn declared_types(source: &str) -> std::collections::BTreeSet<String> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("const TYPE: &'static str = \""))
        .filter_map(|rest| Some(rest.split_once('"')?.0.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_in_docs_events_needs_only_what_its_producer_always_sends() {
        let root = docs_dir(env!("CARGO_MANIFEST_DIR"));
        let readers = files::subdirectories(&root)
            .unwrap()
            .iter()
            .flat_map(|stream| files::subdirectories(stream).unwrap())
            .flat_map(|group| files::json_files(&group).unwrap())
            .count();
        assert!(readers > 0, "no reader schema under {}", root.display());
        let problems = unmet_reader_needs(&root).unwrap();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
