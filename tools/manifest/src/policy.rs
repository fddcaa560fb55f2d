//! The permission policy: may this call run now, must the user confirm it, or is it refused?
//!
//! Pure: no IO, no clock, no globals. The caller loads the user's grants (from the store)
//! and passes them in; the same inputs always give the same decision, which is what makes
//! the table of cases in the tests a specification.
//!
//! The rules, in order:
//! 1. A tool the user set to `Never` is refused.
//! 2. Every capability the manifest declares must be granted; the denial names the first
//!    missing one. Built-ins come with their fixed capabilities except the user's own folders
//!    (and running arbitrary commands); plugins need every capability granted.
//! 3. Sending, destroying and running commands always ask, showing the exact arguments,
//!    whatever the settings say.
//! 4. Read-only tools run freely (unless the user asked to be asked every time).
//! 5. Arguments that came from another tool's output make any non-read-only call ask: text a
//!    tool returned can never silently trigger an action.
//! 6. Otherwise the user's setting decides (default by risk: see [`ToolSetting::default_for`]).
//! 7. A call that would ask, with nobody there to answer (an unattended origin), is refused.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use crate::{Capability, DirScope, Risk, SpawnScope, ToolManifest, ToolSource};

/// The user's per-tool choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolSetting {
    AlwaysAsk,
    AskFirstTime,
    Allow,
    Never,
}

impl ToolSetting {
    /// Safe defaults: read-only tools are allowed; tools that change local data or open
    /// something outside ask the first time; sending and destroying always ask (and cannot be
    /// relaxed, see rule 3).
    pub fn default_for(risk: Risk) -> ToolSetting {
        match risk {
            Risk::ReadOnly => ToolSetting::Allow,
            Risk::ChangesLocalData | Risk::ReachesOutside => ToolSetting::AskFirstTime,
            Risk::Sends | Risk::Destructive => ToolSetting::AlwaysAsk,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ToolSetting::AlwaysAsk => "always-ask",
            ToolSetting::AskFirstTime => "ask-first-time",
            ToolSetting::Allow => "allow",
            ToolSetting::Never => "never",
        }
    }

    pub fn parse(text: &str) -> Option<ToolSetting> {
        Some(match text {
            "always-ask" => ToolSetting::AlwaysAsk,
            "ask-first-time" => ToolSetting::AskFirstTime,
            "allow" => ToolSetting::Allow,
            "never" => ToolSetting::Never,
            _ => return None,
        })
    }
}

/// A folder the user granted to a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderGrant {
    pub path: PathBuf,
    pub write: bool,
}

/// Everything the user decided about one tool, as loaded from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolGrants {
    /// `None`: the default for the tool's risk.
    pub setting: Option<ToolSetting>,
    /// The user confirmed a call of this tool before (for `AskFirstTime`).
    pub confirmed_before: bool,
    /// Capabilities granted explicitly (all of a plugin's; `spawn:any-command`).
    pub capabilities: BTreeSet<Capability>,
    pub folders: Vec<FolderGrant>,
}

impl ToolGrants {
    /// Builds grants from their stored text forms (the store keeps `allow`, `network`,
    /// folder paths). Unknown settings or capability keys, which only a newer Sotto or a hand
    /// edit could have written, grant nothing.
    pub fn from_stored<'a>(
        setting: Option<&str>,
        confirmed_before: bool,
        capability_keys: impl IntoIterator<Item = &'a str>,
        folders: impl IntoIterator<Item = (PathBuf, bool)>,
    ) -> ToolGrants {
        ToolGrants {
            setting: setting.and_then(ToolSetting::parse),
            confirmed_before,
            capabilities: capability_keys
                .into_iter()
                .filter_map(Capability::from_key)
                .collect(),
            folders: folders
                .into_iter()
                .map(|(path, write)| FolderGrant { path, write })
                .collect(),
        }
    }
}

/// How the request reached Sotto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Voice,
    Typed,
    /// No one is at the keyboard: a timer firing, an automation. Nothing can be confirmed.
    Unattended,
}

/// Where a call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub input: Input,
    /// Some argument was filled in from an earlier step's output (`$N`).
    pub uses_tool_output: bool,
}

impl Origin {
    pub fn user(input: Input) -> Origin {
        Origin {
            input,
            uses_tool_output: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowReason {
    ReadOnly,
    UserAllows,
    ConfirmedBefore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskReason {
    /// Sends or destroys: always asks.
    AlwaysAsks(Risk),
    RunsCommands,
    UsesToolOutput,
    UserAsksEveryTime,
    FirstTime,
}

impl AskReason {
    /// Whether the tool's setting is what asks (so "always allow this tool" would answer it
    /// from now on), rather than a rule no setting relaxes.
    pub fn setting_decides(self) -> bool {
        matches!(self, AskReason::UserAsksEveryTime | AskReason::FirstTime)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Blocked,
    MissingGrant(Capability),
    NobodyToConfirm(AskReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(AllowReason),
    Ask(AskReason),
    Deny(Denial),
}

/// Decides one call. See the module documentation for the rules.
pub fn decide(manifest: &ToolManifest, grants: &ToolGrants, origin: Origin) -> Decision {
    let setting = grants
        .setting
        .unwrap_or_else(|| ToolSetting::default_for(manifest.risk));
    if setting == ToolSetting::Never {
        return Decision::Deny(Denial::Blocked);
    }
    if let Some(missing) = manifest
        .capabilities
        .iter()
        .find(|c| !capability_granted(&manifest.source, grants, c))
    {
        return Decision::Deny(Denial::MissingGrant(missing.clone()));
    }
    let ask = |reason| match origin.input {
        Input::Unattended => Decision::Deny(Denial::NobodyToConfirm(reason)),
        Input::Voice | Input::Typed => Decision::Ask(reason),
    };
    if matches!(manifest.risk, Risk::Sends | Risk::Destructive) {
        return ask(AskReason::AlwaysAsks(manifest.risk));
    }
    if manifest
        .capabilities
        .contains(&Capability::Spawn(SpawnScope::AnyCommand))
    {
        return ask(AskReason::RunsCommands);
    }
    if setting == ToolSetting::AlwaysAsk {
        return ask(AskReason::UserAsksEveryTime);
    }
    if manifest.risk == Risk::ReadOnly {
        return Decision::Allow(AllowReason::ReadOnly);
    }
    if origin.uses_tool_output {
        return ask(AskReason::UsesToolOutput);
    }
    match setting {
        ToolSetting::Allow => Decision::Allow(AllowReason::UserAllows),
        ToolSetting::AskFirstTime if grants.confirmed_before => {
            Decision::Allow(AllowReason::ConfirmedBefore)
        }
        _ => ask(AskReason::FirstTime),
    }
}

/// Whether `capability` is granted to a tool from `source`. The context builder uses the
/// same answer to decide which handles to open.
pub fn capability_granted(
    source: &ToolSource,
    grants: &ToolGrants,
    capability: &Capability,
) -> bool {
    let folder_granted = match capability {
        Capability::ReadDir(DirScope::UserFolders) => Some(!grants.folders.is_empty()),
        Capability::WriteDir(DirScope::UserFolders) => Some(grants.folders.iter().any(|f| f.write)),
        _ => None,
    };
    match (source, folder_granted) {
        // Which of their folders a tool sees is always the user's choice.
        (_, Some(granted)) => granted,
        (ToolSource::BuiltIn, None) if !capability.user_chooses_for_builtins() => true,
        _ => grants.capabilities.contains(capability),
    }
}

impl AskReason {
    pub fn describe(self) -> String {
        match self {
            AskReason::AlwaysAsks(risk) => {
                format!("this tool {}, so Sotto always asks", risk.describe())
            }
            AskReason::RunsCommands => "this runs a command, so Sotto always asks".into(),
            AskReason::UsesToolOutput => {
                "its arguments come from another tool's output, not from you".into()
            }
            AskReason::UserAsksEveryTime => "you asked to confirm this tool every time".into(),
            AskReason::FirstTime => "this is the first time this tool runs".into(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AskReason::AlwaysAsks(_) => "always-asks",
            AskReason::RunsCommands => "runs-commands",
            AskReason::UsesToolOutput => "uses-tool-output",
            AskReason::UserAsksEveryTime => "setting-always-ask",
            AskReason::FirstTime => "first-time",
        }
    }
}

impl AllowReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AllowReason::ReadOnly => "read-only",
            AllowReason::UserAllows => "setting-allow",
            AllowReason::ConfirmedBefore => "confirmed-before",
        }
    }
}

impl Denial {
    /// The message for the user, naming the tool and what is missing.
    pub fn message(&self, tool: &str) -> String {
        match self {
            Denial::Blocked => format!(
                "{tool} is turned off in your settings (`sotto tools grant {tool}` turns it back on)"
            ),
            Denial::MissingGrant(cap @ Capability::ReadDir(DirScope::UserFolders))
            | Denial::MissingGrant(cap @ Capability::WriteDir(DirScope::UserFolders)) => format!(
                "{tool} needs the grant `{}` ({cap}), which you have not given: \
                 run `sotto tools grant {tool} --folder DIR`",
                cap.key()
            ),
            Denial::MissingGrant(cap) => format!(
                "{tool} needs the grant `{}` ({cap}), which you have not given: \
                 run `sotto tools grant {tool} --capability {}`",
                cap.key(),
                cap.key()
            ),
            Denial::NobodyToConfirm(reason) => format!(
                "{tool} needs your confirmation ({}), and nobody is there to give it",
                reason.describe()
            ),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allow(r) => write!(f, "allow ({})", r.as_str()),
            Decision::Ask(r) => write!(f, "ask ({})", r.as_str()),
            Decision::Deny(d) => write!(f, "deny ({d:?})"),
        }
    }
}
