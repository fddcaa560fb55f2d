//! Writing a changed [`Config`] back to `config.toml` the way a person would edit it: only the
//! keys whose values changed are touched, so the user's comments, order and spacing stay.
//! A missing file starts from the commented default configuration.

use std::io::Write;
use std::path::Path;

use toml_edit::{DocumentMut, Item, Table};

use crate::{Config, ConfigError, DEFAULT_CONFIG_TOML};

/// Saves `config` to `path`. It is validated first, and the file is replaced atomically (a
/// temporary file beside it, then a rename), so a full disk or a crash leaves the old file
/// whole. A file that does not parse as a configuration is not overwritten: the error says
/// so, and the user's edits there are not lost.
pub fn save(path: &Path, config: &Config) -> Result<(), ConfigError> {
    config.validate(path)?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DEFAULT_CONFIG_TOML.to_string(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let current = Config::parse(&text, path)?;
    if &current == config {
        return Ok(());
    }
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let mut document: DocumentMut = text.parse().map_err(|e| parse_error(format!("{e}")))?;
    // Both configurations as plain documents, compared key by key.
    let as_document = |config: &Config| -> Result<DocumentMut, ConfigError> {
        toml::to_string(config)
            .map_err(|e| parse_error(format!("cannot write the configuration: {e}")))?
            .parse()
            .map_err(|e| parse_error(format!("{e}")))
    };
    let wanted = as_document(config)?;
    let before = as_document(&current)?;
    merge(
        document.as_table_mut(),
        wanted.as_table(),
        Some(before.as_table()),
    );
    write_atomically(path, document.to_string().as_bytes())
}

/// Brings `document` (the user's file) to `wanted`, given that it parsed to `before`: a
/// changed key is set in place, a key that became unset is removed, and a nested table
/// (`[speech.fusion]`) is merged the same way, so the comments inside it stay too.
fn merge(document: &mut Table, wanted: &Table, before: Option<&Table>) {
    for (key, wanted_item) in wanted.iter() {
        let before_item = before.and_then(|t| t.get(key));
        if !differs(wanted_item, before_item) {
            continue;
        }
        let target = document
            .entry(key)
            .or_insert_with(|| Item::Table(Table::new()));
        match (wanted_item.as_table(), target.as_table_mut()) {
            (Some(wanted_table), Some(table)) => {
                merge(table, wanted_table, before_item.and_then(Item::as_table))
            }
            // A plain value, or a table the user wrote inline (`fusion = { ... }`), which
            // is replaced whole.
            _ => set_keeping_comments(document, key, wanted_item.clone()),
        }
    }
    // Keys that became unset (an optional path back to its default).
    if let Some(before) = before {
        for (key, _) in before.iter() {
            if !wanted.contains_key(key) {
                document.remove(key);
            }
        }
    }
}

/// Whether `wanted` is not what `before` holds. Tables are compared key by key: a table's
/// text leaves out the tables nested in it.
fn differs(wanted: &Item, before: Option<&Item>) -> bool {
    match (wanted.as_table(), before.and_then(Item::as_table)) {
        (Some(wanted), Some(before)) => {
            wanted
                .iter()
                .any(|(key, item)| differs(item, before.get(key)))
                || before.iter().any(|(key, _)| !wanted.contains_key(key))
        }
        _ => before.map(Item::to_string) != Some(wanted.to_string()),
    }
}

/// Replaces the value of `key` in place, so the comment above the key (the key's decor) and
/// the one after the value stay.
fn set_keeping_comments(table: &mut Table, key: &str, mut value: Item) {
    match table.get_mut(key) {
        Some(item) => {
            if let (Some(old), Some(new)) = (item.as_value(), value.as_value_mut()) {
                *new.decor_mut() = old.decor().clone();
            }
            *item = value;
        }
        None => {
            table.insert(key, value);
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let write_err = |source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    temp.write_all(bytes).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    temp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}
