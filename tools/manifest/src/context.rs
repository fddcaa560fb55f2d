//! What a tool receives for one call: handles for the capabilities it declared and the user
//! granted, and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use sotto_sandbox::{Access, HostEnv, Launcher, ProgramRule, ScopedDir};

use crate::policy::{capability_granted, ToolGrants};
use crate::{Capability, DirScope, SpawnScope, TextModel, ToolError, ToolManifest};

/// What the host knows that tools may be given a share of.
#[derive(Debug, Clone)]
pub struct Host {
    /// Sotto's data folder; `DirScope::Sotto` folders live under it.
    pub data_dir: PathBuf,
    /// The allow-listed environment (`HOME`, `PATH`, display, XDG folders).
    pub env: HostEnv,
    /// The local language model, when the app has one (see [`Host::with_text_model`]).
    pub text_model: Option<Arc<dyn TextModel>>,
}

impl Host {
    /// A host with no language model.
    pub fn new(data_dir: PathBuf, env: HostEnv) -> Host {
        Host {
            data_dir,
            env,
            text_model: None,
        }
    }

    pub fn with_text_model(mut self, model: Arc<dyn TextModel>) -> Host {
        self.text_model = Some(model);
        self
    }
}

/// The handles one tool call may use. Built by [`ToolContext::build`] from the manifest and
/// the user's grants: a capability that was not declared, or not granted, has no handle, and
/// asking for it fails with an error naming it.
#[derive(Debug)]
pub struct ToolContext {
    tool: String,
    sotto_dirs: BTreeMap<String, ScopedDir>,
    user_folders: Vec<ScopedDir>,
    unavailable_folders: Vec<String>,
    applications: Vec<ScopedDir>,
    launcher: Option<Launcher>,
    flags: BTreeSet<Capability>,
    text_model: Option<Arc<dyn TextModel>>,
}

impl ToolContext {
    pub fn build(
        manifest: &ToolManifest,
        host: &Host,
        grants: &ToolGrants,
    ) -> Result<ToolContext, ToolError> {
        let mut context = ToolContext {
            tool: manifest.name.clone(),
            sotto_dirs: BTreeMap::new(),
            user_folders: Vec::new(),
            unavailable_folders: Vec::new(),
            applications: Vec::new(),
            launcher: None,
            flags: BTreeSet::new(),
            text_model: None,
        };
        let granted: Vec<&Capability> = manifest
            .capabilities
            .iter()
            .filter(|c| capability_granted(&manifest.source, grants, c))
            .collect();
        let writes = |scope: &DirScope| granted.contains(&&Capability::WriteDir(scope.clone()));
        let mut programs = Vec::new();
        let mut desktop_entries = false;
        for capability in &granted {
            match capability {
                Capability::ReadDir(DirScope::Sotto { folder })
                | Capability::WriteDir(DirScope::Sotto { folder }) => {
                    if context.sotto_dirs.contains_key(folder) {
                        continue;
                    }
                    let root = host.data_dir.join(folder);
                    let dir = if writes(&DirScope::Sotto {
                        folder: folder.clone(),
                    }) {
                        ScopedDir::create(&root)?
                    } else {
                        std::fs::create_dir_all(&root).map_err(|e| {
                            ToolError::Failed(format!("cannot create {}: {e}", root.display()))
                        })?;
                        ScopedDir::open(&root, Access::Read)?
                    };
                    context.sotto_dirs.insert(folder.clone(), dir);
                }
                Capability::ReadDir(DirScope::UserFolders)
                | Capability::WriteDir(DirScope::UserFolders) => {
                    if !context.user_folders.is_empty() || !context.unavailable_folders.is_empty() {
                        continue;
                    }
                    let may_write = writes(&DirScope::UserFolders);
                    for folder in &grants.folders {
                        let access = if may_write && folder.write {
                            Access::ReadWrite
                        } else {
                            Access::Read
                        };
                        // A granted folder that was since deleted or moved is reported, not
                        // fatal: the others still work.
                        match ScopedDir::open(&folder.path, access) {
                            Ok(dir) => context.user_folders.push(dir),
                            Err(e) => context.unavailable_folders.push(e.to_string()),
                        }
                    }
                }
                Capability::ReadDir(DirScope::Applications) => {
                    let mut roots: Vec<PathBuf> = host.env.data_home().into_iter().collect();
                    roots.extend(host.env.data_dirs());
                    for root in roots {
                        if let Ok(dir) = ScopedDir::open(&root.join("applications"), Access::Read) {
                            if !context.applications.iter().any(|d| d.root() == dir.root()) {
                                context.applications.push(dir);
                            }
                        }
                    }
                }
                Capability::WriteDir(DirScope::Applications) => {}
                Capability::Spawn(SpawnScope::Program(program)) => programs.push(program.clone()),
                Capability::Spawn(SpawnScope::DesktopEntries) => desktop_entries = true,
                // No built-in runs arbitrary commands; a plugin host would give its own handle.
                Capability::Spawn(SpawnScope::AnyCommand) => {}
                flag @ (Capability::Notify
                | Capability::Clipboard
                | Capability::Network
                | Capability::Audio) => {
                    context.flags.insert((*flag).clone());
                }
                Capability::LanguageModel => {
                    context.flags.insert(Capability::LanguageModel);
                    context.text_model = host.text_model.clone();
                }
            }
        }
        if desktop_entries {
            context.launcher = Some(Launcher::new(host.env.clone(), ProgramRule::DesktopEntries));
        } else if !programs.is_empty() {
            context.launcher = Some(Launcher::new(
                host.env.clone(),
                ProgramRule::Named(programs),
            ));
        }
        Ok(context)
    }

    /// A context with no handles at all, for tools that need none (calculator, date).
    pub fn bare(tool: &str) -> ToolContext {
        ToolContext {
            tool: tool.to_string(),
            sotto_dirs: BTreeMap::new(),
            user_folders: Vec::new(),
            unavailable_folders: Vec::new(),
            applications: Vec::new(),
            launcher: None,
            flags: BTreeSet::new(),
            text_model: None,
        }
    }

    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// One of Sotto's own folders (`notes`, `timers`).
    pub fn sotto_dir(&self, folder: &str) -> Result<&ScopedDir, ToolError> {
        self.sotto_dirs.get(folder).ok_or_else(|| {
            ToolError::missing(
                &self.tool,
                Capability::ReadDir(DirScope::Sotto {
                    folder: folder.into(),
                }),
            )
        })
    }

    /// The user's granted folders that could be opened. Empty means none was granted (or all
    /// have gone), which is an error naming the grant.
    pub fn user_folders(&self) -> Result<&[ScopedDir], ToolError> {
        if self.user_folders.is_empty() {
            if let Some(first) = self.unavailable_folders.first() {
                return Err(ToolError::Refused(format!(
                    "{}: none of the folders you granted can be opened ({first})",
                    self.tool
                )));
            }
            return Err(ToolError::missing(
                &self.tool,
                Capability::ReadDir(DirScope::UserFolders),
            ));
        }
        Ok(&self.user_folders)
    }

    pub fn applications(&self) -> Result<&[ScopedDir], ToolError> {
        if self.applications.is_empty() {
            return Err(ToolError::missing(
                &self.tool,
                Capability::ReadDir(DirScope::Applications),
            ));
        }
        Ok(&self.applications)
    }

    /// The launcher for a tool that runs `program` (its `spawn:PROGRAM` capability).
    pub fn launcher(&self, program: &str) -> Result<&Launcher, ToolError> {
        self.launcher.as_ref().ok_or_else(|| {
            ToolError::missing(
                &self.tool,
                Capability::Spawn(SpawnScope::Program(program.into())),
            )
        })
    }

    /// The launcher for a tool that starts installed applications.
    pub fn app_launcher(&self) -> Result<&Launcher, ToolError> {
        self.launcher.as_ref().ok_or_else(|| {
            ToolError::missing(&self.tool, Capability::Spawn(SpawnScope::DesktopEntries))
        })
    }

    /// The local language model. Fails naming the capability when it was not declared or
    /// granted, and saying so when this Sotto has no model to offer.
    pub fn text_model(&self) -> Result<&dyn TextModel, ToolError> {
        match &self.text_model {
            Some(model) => Ok(model.as_ref()),
            None if self.flags.contains(&Capability::LanguageModel) => Err(ToolError::Failed(
                "no language model is available; install one with `sotto models fetch`".into(),
            )),
            None => Err(ToolError::missing(&self.tool, Capability::LanguageModel)),
        }
    }

    pub fn has(&self, flag: &Capability) -> bool {
        self.flags.contains(flag)
    }
}
