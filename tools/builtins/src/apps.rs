//! `open_app`: starts an installed application, found by name among the freedesktop
//! `.desktop` entries of the XDG data folders (user's first, as the spec orders them).
//!
//! The request only chooses *which* entry; the program and its arguments come from the entry
//! file, expanded without a shell (`desktop.rs`), and the application starts detached with
//! the scrubbed environment.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, ScopedDir, WalkLimits};
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, SpawnScope, ToolContext, ToolError, ToolInfo,
    TypedTool,
};

use crate::desktop::{expand_exec, match_score, parse_entry, DesktopEntry};

#[derive(Debug)]
pub struct OpenApp;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAppArgs {
    /// The application's name as the user said it, e.g. `firefox`, `text editor`,
    /// `calculator`.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenedApp {
    pub name: String,
    /// The desktop file id, e.g. `org.gnome.TextEditor.desktop`.
    pub id: String,
    pub pid: u32,
}

/// Every application entry visible to the user, in XDG precedence: for one desktop file id
/// the first folder wins, and a `Hidden` entry hides the id everywhere.
fn entries(folders: &[ScopedDir]) -> Vec<(DesktopEntry, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for dir in folders {
        let limits = WalkLimits {
            max_depth: 3,
            max_entries: 20_000,
            include_hidden: false,
        };
        let (files, _) = dir.walk(limits);
        for file in files {
            if !file.path.ends_with(".desktop") || !(file.is_file || file.is_symlink) {
                continue;
            }
            let id = file.path.replace('/', "-");
            if !seen.insert(id.clone()) {
                continue;
            }
            // A symlinked entry pointing outside the folder is refused by cap-std and skipped.
            let Ok(text) = dir.read_to_string(&file.path) else {
                continue;
            };
            let path = dir.display_path(&file.path).display().to_string();
            if let Some(entry) = parse_entry(&id, &text) {
                out.push((entry, path));
            }
        }
    }
    out.retain(|(e, _)| e.is_application && !e.hidden);
    out
}

impl TypedTool for OpenApp {
    type Args = OpenAppArgs;
    type Output = OpenedApp;

    fn templates(&self) -> &'static [&'static str] {
        &[
            // The specific shape first: "launch the calculator app" names "calculator".
            "(open|start|launch) [the] {name} (app|application)",
            "(start|launch) [the] {name}",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "open_app",
            description: "Starts an installed application by name.",
            examples: vec![
                Example::new("open firefox", json!({"name": "firefox"})),
                Example::new("start the text editor", json!({"name": "text editor"})),
                Example::new("launch the calculator app", json!({"name": "calculator"})),
                Example::new("can you open spotify", json!({"name": "spotify"})),
            ],
            capabilities: vec![
                Capability::ReadDir(DirScope::Applications),
                Capability::Spawn(SpawnScope::DesktopEntries),
            ],
            risk: Risk::ReachesOutside,
        }
    }

    async fn run(
        &self,
        args: OpenAppArgs,
        context: &ToolContext,
    ) -> Result<Reply<OpenedApp>, ToolError> {
        let folders = context.applications()?;
        let mut candidates: Vec<(u32, DesktopEntry, String)> = entries(folders)
            .into_iter()
            .map(|(e, path)| (match_score(&e, &args.name), e, path))
            .filter(|(score, _, _)| *score > 0)
            .collect();
        // Best score first; among equals, entries meant for menus before helpers.
        candidates.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(a.1.no_display.cmp(&b.1.no_display))
                .then(a.1.name.cmp(&b.1.name))
        });
        let Some((_, entry, path)) = candidates.into_iter().next() else {
            return Err(ToolError::Refused(format!(
                "no installed application matches \"{}\"",
                args.name.trim()
            )));
        };
        if entry.terminal {
            return Err(ToolError::Refused(format!(
                "{} runs in a terminal, which Sotto cannot start yet",
                entry.name
            )));
        }
        let (program, arguments) = expand_exec(&entry, &path).map_err(|why| {
            ToolError::Refused(format!("{} cannot be started: {why} ({path})", entry.name))
        })?;
        let arguments: Vec<Arg> = arguments.into_iter().map(Arg::Configured).collect();
        let pid = context
            .app_launcher()?
            .spawn_detached(&program, &arguments)?;
        let summary = format!("Started {}.", entry.name);
        Ok(Reply::new(
            OpenedApp {
                name: entry.name,
                id: entry.id,
                pid,
            },
            summary,
        ))
    }
}
