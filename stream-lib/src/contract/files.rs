//! One crate's schema files and keeping `docs/events` equal to them: written when the test
//! asks (`scripts/event-schemas` sets `EVENT_SCHEMAS=write`), otherwise compared (a difference
//! or a stale file fails the test).

use std::{
    collections::{BTreeMap, BTreeSet},
    fs, io,
    path::{Path, PathBuf},
};

use schemars::{JsonSchema, generate::Contract, generate::SchemaSettings};
use serde_json::{Map, Value};

use crate::Event;

/// The schema files one crate owns under `docs/events`.
#[derive(Debug, Default)]
pub struct SchemaFiles {
    files: BTreeMap<PathBuf, Value>,
    /// Directories whose every `*.json` this crate generates: anything else there is stale.
    owned_dirs: BTreeSet<PathBuf>,
}

impl SchemaFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// `E` as its producer sends it (what it serializes), in `<stream>/<type>.json`.
    pub fn publishes<E: Event + JsonSchema>(self, stream: &str) -> Self {
        self.owned(
            Path::new(stream),
            E::TYPE,
            payload_schema::<E>(Contract::Serialize),
        )
    }

    /// `E` as consumer group `group` reads it (what it deserializes), in
    /// `<stream>/<group>/<type>.json`.
    pub fn reads<E: Event + JsonSchema>(self, stream: &str, group: &str) -> Self {
        let dir = Path::new(stream).join(group);
        self.owned(&dir, E::TYPE, payload_schema::<E>(Contract::Deserialize))
    }

    /// A file outside any owned directory (the envelope's).
    pub fn file(mut self, path: &str, schema: Value) -> Self {
        self.files.insert(PathBuf::from(path), schema);
        self
    }

    fn owned(mut self, dir: &Path, event_type: &str, schema: Value) -> Self {
        self.owned_dirs.insert(dir.to_owned());
        self.files
            .insert(dir.join(format!("{event_type}.json")), schema);
        self
    }

    /// The event types with a file directly in `dir` (`"orders_stream"`,
    /// `"orders_stream/products-service"`).
    pub fn types_in(&self, dir: &str) -> BTreeSet<String> {
        self.files
            .keys()
            .filter(|path| path.parent() == Some(Path::new(dir)))
            .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
            .collect()
    }

    /// A service's check: [`Self::sync`], and the types with a file in each directory are
    /// exactly the `const TYPE`s of its source (`("inventory_stream",
    /// include_str!("published.rs"))`), so every event type in the code has a schema.
    pub fn check(
        &self,
        root: &Path,
        declared: &[(String, &str)],
        write: bool,
    ) -> Result<(), String> {
        self.sync(root, write)?;
        let mut problems = Vec::new();
        for (dir, source) in declared {
            let (generated, declared) = (self.types_in(dir), super::declared_types(source));
            if generated != declared {
                problems.push(format!(
                    "docs/events/{dir}: schemas for {generated:?}, the code declares {declared:?}"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Makes `root` (`docs/events`) hold exactly these files when `write`; otherwise an error
    /// naming every file that differs, is missing or is stale.
    pub fn sync(&self, root: &Path, write: bool) -> Result<(), String> {
        let mut problems = Vec::new();
        for (path, schema) in &self.files {
            let text = to_text(schema);
            let full = root.join(path);
            let current = fs::read_to_string(&full).ok();
            if current.as_deref() == Some(text.as_str()) {
                continue;
            }
            if write {
                let written = full
                    .parent()
                    .map_or(Ok(()), fs::create_dir_all)
                    .and_then(|()| fs::write(&full, &text));
                written.map_err(|error| format!("{}: {error}", full.display()))?;
            } else if current.is_none() {
                problems.push(format!("docs/events/{} is missing", path.display()));
            } else {
                problems.push(format!(
                    "docs/events/{} differs from its Rust type",
                    path.display()
                ));
            }
        }
        for dir in &self.owned_dirs {
            let found = json_files(&root.join(dir)).map_err(|error| error.to_string())?;
            for file in found {
                let relative = dir.join(file.file_name().unwrap_or_default());
                if self.files.contains_key(&relative) {
                    continue;
                }
                if write {
                    fs::remove_file(&file).map_err(|error| error.to_string())?;
                } else {
                    problems.push(format!(
                        "docs/events/{} is stale: no Rust type generates it",
                        relative.display()
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}\nrun scripts/event-schemas and commit docs/events",
                problems.join("\n")
            ))
        }
    }
}

/// The draft-07 schema of `T` under `contract` (what `T` serializes, or what it accepts), with
/// its keys sorted so the files do not depend on serde_json's features.
pub fn payload_schema<T: JsonSchema>(contract: Contract) -> Value {
    let schema = SchemaSettings::draft07()
        .with(|settings| settings.contract = contract)
        .into_generator()
        .into_root_schema_for::<T>();
    sorted(schema.to_value())
}

/// A schema file, parsed.
pub fn read_schema(path: &Path) -> io::Result<Value> {
    let text = fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {error}", path.display()),
        )
    })
}

fn to_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let map: Map<String, Value> = entries
                .into_iter()
                .map(|(key, value)| (key, sorted(value)))
                .collect();
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The subdirectories of `dir`, sorted (none when it does not exist).
pub(crate) fn subdirectories(dir: &Path) -> io::Result<Vec<PathBuf>> {
    entries(dir, |path| path.is_dir())
}

/// The `*.json` files directly in `dir`, sorted (none when it does not exist).
pub(crate) fn json_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    entries(dir, |path| {
        path.is_file() && path.extension().is_some_and(|ext| ext == "json")
    })
}

fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> io::Result<Vec<PathBuf>> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut found = Vec::new();
    for entry in listing {
        let path = entry?.path();
        if keep(&path) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
