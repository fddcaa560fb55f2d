//! What a tool says about itself: name, description, argument and result schemas, example
//! utterances, the capabilities it needs and how risky it is.

use std::fmt;

use serde_json::{json, Value};

/// How much harm a call can do; the policy's defaults and its always-ask rules follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Reads or computes; changes nothing (date, calculator, reading notes, finding files).
    ReadOnly,
    /// Changes the user's local data in a way they can see and undo (a new note, a timer).
    ChangesLocalData,
    /// Opens something that leaves Sotto: a web page, a mail draft, an application. Nothing is
    /// transmitted on the user's behalf without their own further action.
    ReachesOutside,
    /// Transmits something to someone else (sends a message). Always asks.
    Sends,
    /// Deletes or overwrites what cannot be recovered. Always asks.
    Destructive,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::ReadOnly => "read-only",
            Risk::ChangesLocalData => "changes-local-data",
            Risk::ReachesOutside => "reaches-outside",
            Risk::Sends => "sends",
            Risk::Destructive => "destructive",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Risk::ReadOnly => "only reads",
            Risk::ChangesLocalData => "changes your local data",
            Risk::ReachesOutside => "opens something outside Sotto",
            Risk::Sends => "sends something on your behalf",
            Risk::Destructive => "deletes or overwrites data",
        }
    }
}

/// Which folders a file capability covers. Roots are symbolic in the manifest; the context
/// builder turns them into opened directories.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirScope {
    /// A subfolder of Sotto's own data folder (`notes`, `timers`), created on first use.
    Sotto { folder: String },
    /// The folders the user granted to this tool (`sotto tools grant TOOL --folder DIR`).
    UserFolders,
    /// The XDG `applications` folders, where `.desktop` entries live. Read-only.
    Applications,
}

/// Which programs a spawn capability covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpawnScope {
    /// One named program on `PATH`, such as `xdg-open`.
    Program(String),
    /// The program an installed `.desktop` entry names.
    DesktopEntries,
    /// A command line taken from the request. No built-in asks for this; a call that needs
    /// it always asks the user, showing the command.
    AnyCommand,
}

/// Something a tool needs from the host. Structured so the policy can reason about it and a
/// denial can name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    ReadDir(DirScope),
    WriteDir(DirScope),
    Spawn(SpawnScope),
    Notify,
    Clipboard,
    Network,
    Audio,
    /// Ask the local language model for text (a summary). Local: nothing leaves the machine.
    LanguageModel,
}

impl Capability {
    /// A stable text form for storage and for the command line: `read:sotto/notes`,
    /// `write:user-folders`, `spawn:xdg-open`, `notify`, ...
    pub fn key(&self) -> String {
        let dir = |scope: &DirScope| match scope {
            DirScope::Sotto { folder } => format!("sotto/{folder}"),
            DirScope::UserFolders => "user-folders".into(),
            DirScope::Applications => "applications".into(),
        };
        match self {
            Capability::ReadDir(s) => format!("read:{}", dir(s)),
            Capability::WriteDir(s) => format!("write:{}", dir(s)),
            Capability::Spawn(SpawnScope::Program(p)) => format!("spawn:{p}"),
            Capability::Spawn(SpawnScope::DesktopEntries) => "spawn:desktop-entries".into(),
            Capability::Spawn(SpawnScope::AnyCommand) => "spawn:any-command".into(),
            Capability::Notify => "notify".into(),
            Capability::Clipboard => "clipboard".into(),
            Capability::Network => "network".into(),
            Capability::Audio => "audio".into(),
            Capability::LanguageModel => "language-model".into(),
        }
    }

    /// The inverse of [`Capability::key`].
    pub fn from_key(key: &str) -> Option<Capability> {
        let dir = |rest: &str| match rest {
            "user-folders" => Some(DirScope::UserFolders),
            "applications" => Some(DirScope::Applications),
            _ => rest
                .strip_prefix("sotto/")
                .filter(|f| is_simple_name(f))
                .map(|f| DirScope::Sotto { folder: f.into() }),
        };
        Some(match key.split_once(':') {
            Some(("read", rest)) => Capability::ReadDir(dir(rest)?),
            Some(("write", rest)) => Capability::WriteDir(dir(rest)?),
            Some(("spawn", "desktop-entries")) => Capability::Spawn(SpawnScope::DesktopEntries),
            Some(("spawn", "any-command")) => Capability::Spawn(SpawnScope::AnyCommand),
            Some(("spawn", program)) if is_program_name(program) => {
                Capability::Spawn(SpawnScope::Program(program.into()))
            }
            None if key == "notify" => Capability::Notify,
            None if key == "clipboard" => Capability::Clipboard,
            None if key == "network" => Capability::Network,
            None if key == "audio" => Capability::Audio,
            None if key == "language-model" => Capability::LanguageModel,
            _ => return None,
        })
    }

    /// Whether a built-in tool needs the user to grant this explicitly. Built-ins ship with
    /// their fixed capabilities (reviewed with Sotto's code); which of the user's own folders
    /// they may see is the user's choice. Plugins need every capability granted.
    pub fn user_chooses_for_builtins(&self) -> bool {
        matches!(
            self,
            Capability::ReadDir(DirScope::UserFolders)
                | Capability::WriteDir(DirScope::UserFolders)
                | Capability::Spawn(SpawnScope::AnyCommand)
        )
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = |scope: &DirScope| match scope {
            DirScope::Sotto { folder } => format!("Sotto's {folder} folder"),
            DirScope::UserFolders => "folders you choose".into(),
            DirScope::Applications => "the installed applications list".into(),
        };
        match self {
            Capability::ReadDir(s) => write!(f, "read {}", dir(s)),
            Capability::WriteDir(s) => write!(f, "change {}", dir(s)),
            Capability::Spawn(SpawnScope::Program(p)) => write!(f, "run `{p}`"),
            Capability::Spawn(SpawnScope::DesktopEntries) => {
                write!(f, "start installed applications")
            }
            Capability::Spawn(SpawnScope::AnyCommand) => write!(f, "run commands"),
            Capability::Notify => write!(f, "show notifications"),
            Capability::Clipboard => write!(f, "use the clipboard"),
            Capability::Network => write!(f, "use the network"),
            Capability::Audio => write!(f, "control audio"),
            Capability::LanguageModel => write!(f, "ask Sotto's local language model"),
        }
    }
}

/// Where a tool comes from; plugins get no capability by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolSource {
    BuiltIn,
    Plugin { id: String },
}

/// One way a user might ask for the tool, with the arguments that request means. The planner
/// uses these for retrieval and as few-shot examples; the registry checks that the arguments
/// match the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub utterance: String,
    pub args: Value,
}

impl Example {
    pub fn new(utterance: &str, args: Value) -> Example {
        Example {
            utterance: utterance.to_string(),
            args,
        }
    }
}

/// Everything the registry, the planner and the policy know about a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolManifest {
    /// `snake_case`, unique in the registry.
    pub name: String,
    /// One or two sentences for the planner's prompt.
    pub description: String,
    /// JSON Schema (draft 2020-12) of the arguments object, subschemas inlined.
    pub args_schema: Value,
    /// JSON Schema of the result value.
    pub result_schema: Value,
    pub examples: Vec<Example>,
    /// How people often say it, for the fast path that answers without the planner:
    /// `set a timer for {minutes} minutes`, `volume up {action=up}` (syntax in the
    /// `sotto-fastpath` crate). Optional; a template that does not fit the schema is skipped.
    pub templates: Vec<String>,
    pub capabilities: Vec<Capability>,
    pub risk: Risk,
    pub source: ToolSource,
}

impl ToolManifest {
    /// The manifest as JSON, for `sotto tools show --json`, the planner's prompt and plugin
    /// authors. Written by hand: this is the edge, and its shape is a promise.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "parameters": self.args_schema,
            "result": self.result_schema,
            "examples": self.examples.iter().map(|e| json!({
                "utterance": e.utterance,
                "args": e.args,
            })).collect::<Vec<_>>(),
            "templates": self.templates,
            "capabilities": self.capabilities.iter().map(Capability::key).collect::<Vec<_>>(),
            "risk": self.risk.as_str(),
            "source": match &self.source {
                ToolSource::BuiltIn => "builtin".to_string(),
                ToolSource::Plugin { id } => format!("plugin:{id}"),
            },
        })
    }
}

/// `snake_case`: starts with a lowercase letter; lowercase letters, digits and single
/// underscores; at most 64 characters.
pub fn is_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_simple_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A program name looked up on `PATH`: no path separators, nothing an option parser or a
/// hidden file could be confused with.
fn is_program_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_keys_round_trip() {
        let all = [
            Capability::ReadDir(DirScope::Sotto {
                folder: "notes".into(),
            }),
            Capability::WriteDir(DirScope::UserFolders),
            Capability::ReadDir(DirScope::Applications),
            Capability::Spawn(SpawnScope::Program("xdg-open".into())),
            Capability::Spawn(SpawnScope::DesktopEntries),
            Capability::Spawn(SpawnScope::AnyCommand),
            Capability::Notify,
            Capability::Clipboard,
            Capability::Network,
            Capability::Audio,
            Capability::LanguageModel,
        ];
        for cap in all {
            assert_eq!(Capability::from_key(&cap.key()), Some(cap.clone()), "{cap}");
        }
        for bad in [
            "read:/etc",
            "read:sotto/../x",
            "spawn:/bin/sh",
            "spawn:-x",
            "fly",
            "",
        ] {
            assert_eq!(Capability::from_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn tool_names() {
        for good in ["calculator", "note_create", "a1"] {
            assert!(is_tool_name(good), "{good}");
        }
        for bad in ["", "Note", "note-create", "_x", "x_", "a__b", "1a", "nöte"] {
            assert!(!is_tool_name(bad), "{bad}");
        }
    }
}
