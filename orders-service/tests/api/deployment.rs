//! The deployment files against the settings the three services declare (each one's
//! `config::SETTINGS`): docker-compose.yml and the production compose template (Ansible) give
//! each service only settings it declares, and every one it declares (or say why not, in
//! `x-unset-on-purpose`); the Kubernetes manifests set only declared settings, and the base's
//! ConfigMaps loaded whole restate the declared defaults; `.env.example` and the production env
//! template name only declared settings or the compose files' own variables, `.env.example`
//! documents every declared setting, and the defaults it shows are the services' or compose's.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use serde::Deserialize;
use serde_norway::Value;
use web_kit::config::{self, Default, Settings};

const SERVICES: [(&str, Settings); 3] = [
    ("auth-service", auth_service::config::SETTINGS),
    ("products-service", products_service::config::SETTINGS),
    ("orders-service", orders_service::config::SETTINGS),
];

const COMPOSE: &str = "docker-compose.yml";
const PRODUCTION_COMPOSE: &str = "ansible/roles/marketplace/templates/docker-compose.yml.j2";
const ENV_EXAMPLE: &str = ".env.example";
const PRODUCTION_ENV: &str = "ansible/roles/marketplace/templates/env.j2";

#[test]
fn compose_gives_each_service_exactly_the_settings_it_declares() {
    let mut problems = Vec::new();
    for file in [COMPOSE, PRODUCTION_COMPOSE] {
        let compose = yaml(&without_jinja(&read(file)), file);
        for (service, settings) in SERVICES {
            let Some(definition) = compose["services"].get(service) else {
                problems.push(format!("{file}: no service {service}"));
                continue;
            };
            let given = environment(&definition["environment"]);
            let on_purpose = keys(&definition["x-unset-on-purpose"]);
            for name in given.keys().chain(&on_purpose) {
                if config::find(settings, name).is_none() {
                    problems.push(format!(
                        "{file}: {service} is given {name}, which it does not declare"
                    ));
                }
            }
            for setting in config::all(settings) {
                let name = setting.name;
                if !given.contains_key(name) && !on_purpose.contains(name) {
                    problems.push(format!(
                        "{file}: {service} declares {name}, which compose neither sets nor \
                         passes through (or lists in x-unset-on-purpose, with the reason)"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn kubernetes_sets_only_declared_settings_and_the_base_restates_their_defaults() {
    let documents = kubernetes();
    let mut problems = Vec::new();
    let mut config_maps: BTreeMap<String, Vec<(&str, &Value)>> = BTreeMap::new();
    for (file, document) in &documents {
        if document["kind"].as_str() == Some("ConfigMap") {
            let name = text(&document["metadata"]["name"]);
            config_maps
                .entry(name)
                .or_default()
                .push((file.as_str(), &document["data"]));
        }
    }
    for (file, document) in &documents {
        let spec = &document["spec"]["template"]["spec"];
        let containers = [&spec["containers"], &spec["initContainers"]];
        for container in containers
            .into_iter()
            .filter_map(Value::as_sequence)
            .flatten()
        {
            let name = text(&container["name"]);
            let Some(&(service, settings)) = SERVICES.iter().find(|(service, _)| *service == name)
            else {
                continue;
            };
            let mut set: Vec<String> = container["env"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|variable| text(&variable["name"]))
                .collect();
            for source in container["envFrom"].as_sequence().into_iter().flatten() {
                let map = text(&source["configMapRef"]["name"]);
                for (map_file, data) in config_maps.get(&map).into_iter().flatten() {
                    for (key, value) in data.as_mapping().into_iter().flatten() {
                        let key = text(key);
                        let declared = config::find(settings, &key).and_then(|s| s.default_value());
                        if map_file.starts_with("k8s/base/")
                            && declared.is_some_and(|default| default != text(value))
                        {
                            problems.push(format!(
                                "{map_file}: ConfigMap {map} has {key}: {:?}, but {service}'s \
                                 default is {:?} (the base restates the defaults; tune it in an \
                                 overlay)",
                                text(value),
                                declared.unwrap_or_default()
                            ));
                        }
                        set.push(key);
                    }
                }
            }
            for name in set {
                if config::find(settings, &name).is_none() {
                    problems.push(format!(
                        "{file}: {service} is given {name}, which it does not declare (a typo?)"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_env_files_name_only_declared_settings_with_their_defaults() {
    let compose_text = read(COMPOSE);
    let compose = yaml(&compose_text, COMPOSE);
    let compose_defaults = interpolations(&compose_text);
    // The compose file's own variables: interpolated (passwords, image tags, build arguments)
    // or handed to the frontend's nginx template.
    let mut compose_variables: BTreeSet<String> = compose_defaults.keys().cloned().collect();
    compose_variables
        .extend(environment(&compose["services"]["frontend"]["environment"]).into_keys());
    let declared = |name: &str| {
        SERVICES
            .iter()
            .filter_map(|&(_, settings)| config::find(settings, name))
            .collect::<Vec<_>>()
    };
    let mut problems = Vec::new();

    let example = shown(&read(ENV_EXAMPLE));
    for line in &example {
        let (name, value) = (line.name.as_str(), line.value.as_str());
        let at = format!("{ENV_EXAMPLE}:{}", line.number);
        let settings = declared(name);
        if settings.is_empty() && !compose_variables.contains(name) {
            problems.push(format!(
                "{at}: {name} is neither a setting a service declares nor a variable of {COMPOSE}"
            ));
        }
        match (line.commented, compose_defaults.get(name)) {
            (false, Some(Some(default))) if default != value => problems.push(format!(
                "{at}: {name}={value}, but {COMPOSE} defaults it to {default:?}"
            )),
            // Commented out, it shows what applies when unset: a service's default (an empty
            // default means off, and the value is an example).
            (true, _) => {
                let mut defaults: Vec<&str> = settings
                    .iter()
                    .filter_map(|setting| setting.default_value())
                    .collect();
                defaults.sort_unstable();
                defaults.dedup();
                if !defaults.is_empty() && !defaults.contains(&value) && !defaults.contains(&"") {
                    problems.push(format!(
                        "{at}: # {name}={value}, but the default is {}",
                        defaults.join(" or ")
                    ));
                }
            }
            _ => {}
        }
    }
    for (_, settings) in SERVICES {
        for setting in config::all(settings) {
            let name = setting.name;
            let line = example.iter().find(|line| line.name == name);
            if line.is_none() {
                problems.push(format!(
                    "{ENV_EXAMPLE}: {name} is declared but not documented"
                ));
            }
            // A local default of compose's that is not the service's own is shown, uncommented.
            if let Some(Some(local)) = compose_defaults.get(name) {
                let own = matches!(setting.default, Default::Value(value) if value == local)
                    || matches!(setting.default, Default::Derived(_));
                if !own && line.is_none_or(|line| line.commented) {
                    problems.push(format!(
                        "{ENV_EXAMPLE}: {COMPOSE} defaults {name} to {local:?}, not the \
                         service's default: show it uncommented"
                    ));
                }
            }
        }
    }

    let template = read(PRODUCTION_COMPOSE);
    let template_variables = interpolations(&template);
    for line in shown(&without_jinja(&read(PRODUCTION_ENV))) {
        let name = line.name.as_str();
        if declared(name).is_empty() && !template_variables.contains_key(name) {
            problems.push(format!(
                "{PRODUCTION_ENV}:{}: {name} is neither a declared setting nor a variable of \
                 {PRODUCTION_COMPOSE}",
                line.number
            ));
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The document with its aliases resolved and its `<<` merge keys applied.
fn yaml(text: &str, shown: &str) -> Value {
    let mut value: Value =
        serde_norway::from_str(text).unwrap_or_else(|error| panic!("{shown}: {error}"));
    value
        .apply_merge()
        .unwrap_or_else(|error| panic!("{shown}: {error}"));
    value
}

/// Every document of every manifest under k8s/, with its file.
fn kubernetes() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    let mut directories = vec![root().join("k8s")];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                directories.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "yaml")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut documents = Vec::new();
    for path in files {
        let shown = path.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for document in serde_norway::Deserializer::from_str(&text) {
            let value = Value::deserialize(document).unwrap_or_else(|e| panic!("{shown}: {e}"));
            documents.push((shown.clone(), value));
        }
    }
    documents
}

/// A Jinja template read as the file it renders: each `{{ expression }}` a placeholder value,
/// `{% statement %}` lines and the lines they repeat dropped.
fn without_jinja(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.contains("{%") || line.trim_start().starts_with("{{") {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            out.push_str("jinja");
            rest = rest[start..]
                .find("}}")
                .map_or("", |end| &rest[start + end + 2..]);
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// A compose `environment` (a mapping, or a list of `NAME=value`): name -> value, `None` for
/// one passed through from the shell or the env file when set.
fn environment(environment: &Value) -> BTreeMap<String, Option<String>> {
    match environment {
        Value::Mapping(mapping) => mapping
            .iter()
            .map(|(name, value)| (text(name), (!value.is_null()).then(|| text(value))))
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .map(|item| {
                let item = text(item);
                match item.split_once('=') {
                    Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                    None => (item, None),
                }
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn keys(mapping: &Value) -> BTreeSet<String> {
    mapping
        .as_mapping()
        .into_iter()
        .flatten()
        .map(|(key, _)| text(key))
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        other => format!("{other:?}"),
    }
}

/// Every `${NAME...}` of a compose file: name -> its first default (`${NAME:-default}` or
/// `${NAME-default}`), `None` when it has none.
fn interpolations(text: &str) -> BTreeMap<String, Option<String>> {
    let mut found: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = rest[..end].to_owned();
        let after = &rest[end..];
        let default = after
            .strip_prefix(":-")
            .or_else(|| after.strip_prefix('-'))
            .and_then(|value| value.split_once('}'))
            .map(|(value, _)| value.to_owned());
        let entry = found.entry(name).or_default();
        if entry.is_none() {
            *entry = default;
        }
    }
    found
}

/// A `NAME=value` line of an env file, commented out (`# NAME=value`) or not.
struct Shown {
    number: usize,
    name: String,
    value: String,
    commented: bool,
}

fn shown(text: &str) -> Vec<Shown> {
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let (commented, line) = match trimmed.strip_prefix('#') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let is_name = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !is_name {
            continue;
        }
        let value = value.trim();
        let quoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')));
        // In a comment, `NAME=value, and so on` is prose, not a setting shown.
        if commented && quoted.is_none() && value.contains(char::is_whitespace) {
            continue;
        }
        let unquoted = quoted.unwrap_or(value);
        lines.push(Shown {
            number: index + 1,
            name: name.to_owned(),
            value: unquoted.to_owned(),
            commented,
        });
    }
    lines
}
