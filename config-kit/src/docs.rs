//! The settings table of a service's docs, made from its declarations, and the check that keeps
//! the copies in its files (the `//!` of its `config.rs`, its README) equal to it.

use std::path::Path;

use crate::{Default, Settings, all};

/// The line that opens a generated table in a docs file (after the file's line prefix).
const BEGIN: &str = "<!-- settings: made from the declarations in src/config.rs; SETTINGS_DOCS=write cargo test rewrites it -->";
/// The line that closes it.
const END: &str = "<!-- /settings -->";

/// `| Variable | Default | Meaning |`, one row per setting of `groups`.
pub fn markdown(groups: Settings) -> String {
    let mut table = String::from("| Variable | Default | Meaning |\n|---|---|---|\n");
    for setting in all(groups) {
        let default = match setting.default {
            Default::Value("") => "empty".to_owned(),
            Default::Value(value) => format!("`{value}`"),
            Default::Required(hint) => format!("required ({hint})"),
            Default::Unset => "unset".to_owned(),
            Default::Derived(described) => described.to_owned(),
        };
        table.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            setting.name, setting.meaning
        ));
    }
    table
}

/// Checks (or rewrites, as [`check_docs`]) the tables of a service crate at `crate_dir`: the
/// module doc of its `src/config.rs` and its `README.md`.
pub fn check_crate_docs(crate_dir: &Path, groups: Settings) -> Result<(), String> {
    let table = markdown(groups);
    check_docs(&crate_dir.join("src/config.rs"), "//! ", &table)?;
    check_docs(&crate_dir.join("README.md"), "", &table)
}

/// Checks that the table between the settings markers of `path` (each line starting with
/// `line_prefix`, e.g. `//! ` in a module doc, empty in Markdown) is `table`; with
/// `SETTINGS_DOCS=write` in the environment, rewrites it instead. The error says what differs
/// and how to fix it.
pub fn check_docs(path: &Path, line_prefix: &str, table: &str) -> Result<(), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|error| format!("{shown}: {error}"))?;
    let marker = |marker: &str| format!("{line_prefix}{marker}").trim_end().to_owned();
    let (begin, end) = (marker(BEGIN), marker(END));
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|line| line.trim_end() == begin);
    let stop = lines.iter().position(|line| line.trim_end() == end);
    let (Some(start), Some(stop)) = (start, stop) else {
        return Err(format!(
            "{shown}: no settings table: put the lines\n{begin}\n{end}\nwhere it belongs, then run \
             SETTINGS_DOCS=write cargo test"
        ));
    };
    if stop < start {
        return Err(format!("{shown}: {end} comes before {begin}"));
    }
    // Blank lines around the table: Markdown ends the comment lines' blocks before it and
    // the table before the closing comment.
    let wanted: Vec<String> = std::iter::once("")
        .chain(table.lines())
        .chain(std::iter::once(""))
        .map(|line| format!("{line_prefix}{line}").trim_end().to_owned())
        .collect();
    let found: Vec<&str> = lines[start + 1..stop]
        .iter()
        .map(|line| line.trim_end())
        .collect();
    if found == wanted {
        return Ok(());
    }
    if std::env::var("SETTINGS_DOCS").is_ok_and(|mode| mode == "write") {
        let mut rewritten: Vec<String> = lines[..=start].iter().map(|l| (*l).to_owned()).collect();
        rewritten.extend(wanted);
        rewritten.extend(lines[stop..].iter().map(|l| (*l).to_owned()));
        let mut rewritten = rewritten.join("\n");
        if text.ends_with('\n') {
            rewritten.push('\n');
        }
        return std::fs::write(path, rewritten).map_err(|error| format!("{shown}: {error}"));
    }
    let first = found
        .iter()
        .zip(&wanted)
        .position(|(found, wanted)| found != wanted)
        .unwrap_or(found.len().min(wanted.len()));
    Err(format!(
        "{shown}:{}: the settings table differs from the declarations (found {:?}, declared {:?}); \
         run SETTINGS_DOCS=write cargo test to rewrite it",
        start + 2 + first,
        found.get(first),
        wanted.get(first)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Setting;

    const GROUPS: Settings = &[&[
        Setting::value("PORT", "3020", "HTTP port"),
        Setting::value("REDIS_KEY_PREFIX", "", "prefix of every key"),
        Setting::required("DATABASE_URL", "a PostgreSQL URL", "its database"),
        Setting::unset("JWT_PUBLIC_KEY", "the key; unset: fetched"),
        Setting::derived(
            "DEMO_USERS",
            "true (false in production)",
            "seed the demo users",
        ),
    ]];

    #[test]
    fn the_table_has_a_row_per_setting_with_its_kind_of_default() {
        assert_eq!(
            markdown(GROUPS),
            "| Variable | Default | Meaning |\n|---|---|---|\n\
             | `PORT` | `3020` | HTTP port |\n\
             | `REDIS_KEY_PREFIX` | empty | prefix of every key |\n\
             | `DATABASE_URL` | required (a PostgreSQL URL) | its database |\n\
             | `JWT_PUBLIC_KEY` | unset | the key; unset: fetched |\n\
             | `DEMO_USERS` | true (false in production) | seed the demo users |\n"
        );
    }

    #[test]
    fn a_stale_copy_is_found_and_names_its_line() {
        let path = std::env::temp_dir().join(format!("config-kit-{}.rs", std::process::id()));
        let table = markdown(GROUPS);
        let current: String = std::iter::once("")
            .chain(table.lines())
            .chain(std::iter::once(""))
            .map(|line| format!("//! {line}").trim_end().to_owned() + "\n")
            .collect();
        let file =
            |body: &str| format!("//! Settings.\n//!\n//! {BEGIN}\n{body}//! {END}\n\nuse x;\n");
        std::fs::write(&path, file(&current)).unwrap();
        let fresh = check_docs(&path, "//! ", &table);
        std::fs::write(&path, file(&current.replace("`3020`", "`3030`"))).unwrap();
        let stale = check_docs(&path, "//! ", &table);
        std::fs::write(&path, "//! Settings.\n").unwrap();
        let missing = check_docs(&path, "//! ", &table);
        std::fs::remove_file(&path).unwrap();

        assert_eq!(fresh, Ok(()));
        let stale = stale.unwrap_err();
        assert!(stale.contains(":7: the settings table differs"), "{stale}");
        assert!(stale.contains("`3030`"), "{stale}");
        assert!(missing.unwrap_err().contains("no settings table"));
    }
}
