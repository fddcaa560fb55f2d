//! What a user may set for a tool. Which tools always ask is the policy's decision, not this
//! module's: [`always_asks`] asks `policy::decide` about a call with every grant given and the
//! most permissive setting, so a rule added to the policy shows up here (in `sotto tools` and
//! the window's Tools tab) without a second copy of it.

use std::path::PathBuf;

use anyhow::{bail, Result};
use sotto_tools::policy::{
    self, AskReason, Decision, FolderGrant, Input, Origin, ToolGrants, ToolSetting,
};
use sotto_tools::ToolManifest;

/// Why the policy asks before every call of `manifest`, whatever the user's setting and
/// grants; `None` when a setting can let it run without asking.
pub fn always_asks(manifest: &ToolManifest) -> Option<AskReason> {
    let everything = ToolGrants {
        setting: Some(ToolSetting::Allow),
        confirmed_before: true,
        capabilities: manifest.capabilities.iter().cloned().collect(),
        folders: vec![FolderGrant {
            path: PathBuf::from("/"),
            write: true,
        }],
    };
    match policy::decide(manifest, &everything, Origin::user(Input::Typed)) {
        Decision::Ask(reason) => Some(reason),
        Decision::Allow(_) | Decision::Deny(_) => None,
    }
}

/// Refuses a setting that would claim to relax a tool the policy always asks for.
pub fn check_setting(manifest: &ToolManifest, setting: ToolSetting) -> Result<()> {
    let relaxes = matches!(setting, ToolSetting::Allow | ToolSetting::AskFirstTime);
    if let (true, Some(reason)) = (relaxes, always_asks(manifest)) {
        bail!(
            "refused: {} cannot be set to `{}`: {}, whatever its setting. \
             Only `always-ask` and `never` apply to it.",
            manifest.name,
            setting.as_str(),
            reason.describe()
        );
    }
    Ok(())
}
