//! A plugin's description of itself, checked and turned into Sotto's own types. The plugin is
//! untrusted: every string is checked here, and the tool manifests go through the same
//! registry checks as the built-ins' (names, schemas, examples).

use sotto_tools::{Capability, DirScope, Example, Risk, ToolManifest, ToolSource};

use crate::bindings;

/// A name a plugin chooses for itself or for one of its data folders: a lowercase letter,
/// then lowercase letters, digits and `_`; at most 32 characters.
pub fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The Sotto data folder that holds plugin `plugin`'s folder `name`. Flat and prefixed, so a
/// plugin's data folder can never be one of Sotto's own (`notes`, `timers`) or another
/// plugin's: neither part may contain `-`.
pub fn data_folder(plugin: &str, name: &str) -> String {
    format!("plugin-{plugin}-{name}")
}

fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['.', '-'])
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
}

/// What the host remembers about a plugin's folders for one tool, to preopen them per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataFolder {
    pub name: String,
    pub key: String,
}

pub(crate) fn check_info(info: &bindings::PluginInfo) -> Result<(), String> {
    if !is_plugin_name(&info.id) {
        return Err(format!(
            "plugin id `{}` is not a valid name (lowercase letters, digits and _, at most 32)",
            info.id
        ));
    }
    if info.name.trim().is_empty() || info.name.len() > 100 {
        return Err("the plugin's display name must be 1 to 100 characters".into());
    }
    if info.version.trim().is_empty() || info.version.len() > 40 {
        return Err("the plugin's version must be 1 to 40 characters".into());
    }
    if let Some(bad) = info.http_hosts.iter().find(|h| !is_host_name(h)) {
        return Err(format!(
            "`{bad}` is not a host name (lowercase, no scheme, port or path)"
        ));
    }
    Ok(())
}

/// Converts one tool's manifest; the registry checks the rest when the tool is registered.
pub(crate) fn convert(
    plugin: &str,
    wit: &bindings::ToolManifest,
) -> Result<(ToolManifest, Vec<DataFolder>), String> {
    let tool = &wit.name;
    let json = |what: &str, text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| format!("tool `{tool}`: its {what} is not JSON: {e}"))
    };
    let args_schema = json("argument schema", &wit.args_schema)?;
    let result_schema = json("result schema", &wit.result_schema)?;
    if !args_schema.is_object() || !result_schema.is_object() {
        return Err(format!("tool `{tool}`: schemas must be JSON objects"));
    }
    let mut examples = Vec::new();
    for example in &wit.examples {
        examples.push(Example {
            utterance: example.utterance.clone(),
            args: json("example arguments", &example.args_json)?,
        });
    }
    let mut capabilities = Vec::new();
    let mut folders = Vec::new();
    for capability in &wit.capabilities {
        let mut scope = |folder: &bindings::Folder| match folder {
            bindings::Folder::UserFolders => Ok(DirScope::UserFolders),
            bindings::Folder::Data(name) => {
                if !is_plugin_name(name) {
                    return Err(format!(
                        "tool `{tool}`: data folder `{name}` is not a valid name"
                    ));
                }
                let key = data_folder(plugin, name);
                if !folders.iter().any(|f: &DataFolder| f.name == *name) {
                    folders.push(DataFolder {
                        name: name.clone(),
                        key: key.clone(),
                    });
                }
                Ok(DirScope::Sotto { folder: key })
            }
        };
        let converted = match capability {
            bindings::Capability::Read(folder) => Capability::ReadDir(scope(folder)?),
            bindings::Capability::Write(folder) => Capability::WriteDir(scope(folder)?),
            bindings::Capability::Notify => Capability::Notify,
            bindings::Capability::Clipboard => Capability::Clipboard,
            bindings::Capability::Network => Capability::Network,
        };
        if !capabilities.contains(&converted) {
            capabilities.push(converted);
        }
    }
    let risk = match wit.risk {
        bindings::Risk::ReadOnly => Risk::ReadOnly,
        bindings::Risk::ChangesLocalData => Risk::ChangesLocalData,
        bindings::Risk::ReachesOutside => Risk::ReachesOutside,
        bindings::Risk::Sends => Risk::Sends,
        bindings::Risk::Destructive => Risk::Destructive,
    };
    // Writing anything but the plugin's own data, or reaching out, is not "read-only",
    // whatever the plugin says: the policy's free pass is for tools that change nothing.
    let changes = capabilities.iter().any(|c| {
        matches!(
            c,
            Capability::WriteDir(_) | Capability::Clipboard | Capability::Network
        )
    });
    if risk == Risk::ReadOnly && changes {
        return Err(format!(
            "tool `{tool}` says it is read-only but asks to write, use the clipboard or the network"
        ));
    }
    let manifest = ToolManifest {
        name: wit.name.clone(),
        description: wit.description.clone(),
        args_schema,
        result_schema,
        examples,
        // WIT 0.1.0 has no fast-path templates: plugin tools are always planned by the model.
        templates: Vec::new(),
        capabilities,
        risk,
        source: ToolSource::Plugin {
            id: plugin.to_string(),
        },
    };
    Ok((manifest, folders))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["todo", "todo_txt", "a1"] {
            assert!(is_plugin_name(good), "{good}");
        }
        for bad in ["", "Todo", "todo-txt", "1a", "a/b", "ä", &"x".repeat(33)] {
            assert!(!is_plugin_name(bad), "{bad}");
        }
        for good in ["example.org", "api.example-2.com", "localhost"] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in ["", "http://x", "x:80", "x/y", ".x", "X.org", "x."] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn data_folders_cannot_collide() {
        // `-` is in neither part, so the key splits back uniquely.
        assert_eq!(data_folder("todo", "lists"), "plugin-todo-lists");
        assert_ne!(data_folder("a_b", "c"), data_folder("a", "b_c"));
        let key = Capability::ReadDir(DirScope::Sotto {
            folder: data_folder("todo", "lists"),
        })
        .key();
        assert_eq!(key, "read:sotto/plugin-todo-lists");
        assert!(Capability::from_key(&key).is_some());
    }
}
