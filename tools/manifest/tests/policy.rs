//! The policy as a table: manifest (risk, capabilities, source), the user's grants and the
//! call's origin in; allow / ask / deny out.

use std::path::PathBuf;

use sotto_tools::policy::{
    decide, AllowReason, AskReason, Decision, Denial, FolderGrant, Input, Origin, ToolGrants,
    ToolSetting,
};
use sotto_tools::{Capability, DirScope, Risk, SpawnScope, ToolManifest, ToolSource};

fn manifest(risk: Risk, capabilities: &[Capability], source: ToolSource) -> ToolManifest {
    ToolManifest {
        name: "t".into(),
        description: String::new(),
        args_schema: serde_json::json!({"type": "object"}),
        result_schema: serde_json::json!({}),
        examples: vec![],
        templates: vec![],
        capabilities: capabilities.to_vec(),
        risk,
        source,
    }
}

fn notes() -> Capability {
    Capability::WriteDir(DirScope::Sotto {
        folder: "notes".into(),
    })
}
fn folders() -> Capability {
    Capability::ReadDir(DirScope::UserFolders)
}
fn write_folders() -> Capability {
    Capability::WriteDir(DirScope::UserFolders)
}
fn xdg_open() -> Capability {
    Capability::Spawn(SpawnScope::Program("xdg-open".into()))
}
fn plugin() -> ToolSource {
    ToolSource::Plugin { id: "p".into() }
}

fn grants(setting: Option<ToolSetting>) -> ToolGrants {
    ToolGrants {
        setting,
        ..ToolGrants::default()
    }
}
fn with_folder(mut g: ToolGrants, write: bool) -> ToolGrants {
    g.folders.push(FolderGrant {
        path: PathBuf::from("/home/u/Documents"),
        write,
    });
    g
}
fn with_caps(mut g: ToolGrants, caps: &[Capability]) -> ToolGrants {
    g.capabilities.extend(caps.iter().cloned());
    g
}
fn confirmed(mut g: ToolGrants) -> ToolGrants {
    g.confirmed_before = true;
    g
}

const VOICE: Origin = Origin {
    input: Input::Voice,
    uses_tool_output: false,
};
const TYPED: Origin = Origin {
    input: Input::Typed,
    uses_tool_output: false,
};
const FROM_OUTPUT: Origin = Origin {
    input: Input::Typed,
    uses_tool_output: true,
};
const UNATTENDED: Origin = Origin {
    input: Input::Unattended,
    uses_tool_output: false,
};

use AllowReason as A;
use AskReason as Q;
use Decision::{Allow, Ask, Deny};
use ToolSetting as S;

#[test]
fn the_policy_table() {
    let builtin = ToolSource::BuiltIn;
    #[rustfmt::skip]
    let cases: Vec<(&str, ToolManifest, ToolGrants, Origin, Decision)> = vec![
        // Read-only runs freely, whatever the origin, even on another tool's output.
        ("read-only", manifest(Risk::ReadOnly, &[], builtin.clone()), grants(None), VOICE, Allow(A::ReadOnly)),
        ("read-only unattended", manifest(Risk::ReadOnly, &[], builtin.clone()), grants(None), UNATTENDED, Allow(A::ReadOnly)),
        ("read-only on tool output", manifest(Risk::ReadOnly, &[], builtin.clone()), grants(None), FROM_OUTPUT, Allow(A::ReadOnly)),
        ("read-only, user wants to be asked", manifest(Risk::ReadOnly, &[], builtin.clone()), grants(Some(S::AlwaysAsk)), TYPED, Ask(Q::UserAsksEveryTime)),
        ("read-only, turned off", manifest(Risk::ReadOnly, &[], builtin.clone()), grants(Some(S::Never)), TYPED, Deny(Denial::Blocked)),
        // Local changes: ask the first time by default, then run.
        ("notes, first time", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), grants(None), VOICE, Ask(Q::FirstTime)),
        ("notes, confirmed before", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), confirmed(grants(None)), VOICE, Allow(A::ConfirmedBefore)),
        ("notes, allowed", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), grants(Some(S::Allow)), TYPED, Allow(A::UserAllows)),
        ("notes, always ask beats confirmed before", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), confirmed(grants(Some(S::AlwaysAsk))), TYPED, Ask(Q::UserAsksEveryTime)),
        ("notes, unattended first time", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), grants(None), UNATTENDED, Deny(Denial::NobodyToConfirm(Q::FirstTime))),
        ("notes, unattended allowed", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), grants(Some(S::Allow)), UNATTENDED, Allow(A::UserAllows)),
        // Tool output never silently triggers a change, even when the user allows the tool.
        ("notes from tool output, allowed", manifest(Risk::ChangesLocalData, &[notes()], builtin.clone()), grants(Some(S::Allow)), FROM_OUTPUT, Ask(Q::UsesToolOutput)),
        ("open url from tool output, confirmed before", manifest(Risk::ReachesOutside, &[xdg_open()], builtin.clone()), confirmed(grants(Some(S::AskFirstTime))), FROM_OUTPUT, Ask(Q::UsesToolOutput)),
        // Reaching outside: the user's setting decides.
        ("open url, first time", manifest(Risk::ReachesOutside, &[xdg_open()], builtin.clone()), grants(None), TYPED, Ask(Q::FirstTime)),
        ("open url, allowed", manifest(Risk::ReachesOutside, &[xdg_open()], builtin.clone()), grants(Some(S::Allow)), VOICE, Allow(A::UserAllows)),
        // Sending, destroying and running commands always ask, even when "allowed".
        ("send, allowed", manifest(Risk::Sends, &[], builtin.clone()), grants(Some(S::Allow)), TYPED, Ask(Q::AlwaysAsks(Risk::Sends))),
        ("send, confirmed before", manifest(Risk::Sends, &[], builtin.clone()), confirmed(grants(Some(S::AskFirstTime))), VOICE, Ask(Q::AlwaysAsks(Risk::Sends))),
        ("delete, allowed", manifest(Risk::Destructive, &[], builtin.clone()), grants(Some(S::Allow)), TYPED, Ask(Q::AlwaysAsks(Risk::Destructive))),
        ("delete, unattended", manifest(Risk::Destructive, &[], builtin.clone()), grants(Some(S::Allow)), UNATTENDED, Deny(Denial::NobodyToConfirm(Q::AlwaysAsks(Risk::Destructive)))),
        ("command, granted and allowed", manifest(Risk::ChangesLocalData, &[Capability::Spawn(SpawnScope::AnyCommand)], builtin.clone()), with_caps(grants(Some(S::Allow)), &[Capability::Spawn(SpawnScope::AnyCommand)]), TYPED, Ask(Q::RunsCommands)),
        ("command, not granted", manifest(Risk::ChangesLocalData, &[Capability::Spawn(SpawnScope::AnyCommand)], builtin.clone()), grants(Some(S::Allow)), TYPED, Deny(Denial::MissingGrant(Capability::Spawn(SpawnScope::AnyCommand)))),
        ("send, turned off", manifest(Risk::Sends, &[], builtin.clone()), grants(Some(S::Never)), TYPED, Deny(Denial::Blocked)),
        // The user's folders are always the user's to grant.
        ("find files, no folder", manifest(Risk::ReadOnly, &[folders()], builtin.clone()), grants(None), TYPED, Deny(Denial::MissingGrant(folders()))),
        ("find files, folder granted", manifest(Risk::ReadOnly, &[folders()], builtin.clone()), with_folder(grants(None), false), TYPED, Allow(A::ReadOnly)),
        ("write files, read-only folder", manifest(Risk::ChangesLocalData, &[folders(), write_folders()], builtin.clone()), with_folder(grants(Some(S::Allow)), false), TYPED, Deny(Denial::MissingGrant(write_folders()))),
        ("write files, writable folder", manifest(Risk::ChangesLocalData, &[folders(), write_folders()], builtin.clone()), with_folder(grants(Some(S::Allow)), true), TYPED, Allow(A::UserAllows)),
        ("grants do not outrank never", manifest(Risk::ReadOnly, &[folders()], builtin.clone()), with_folder(grants(Some(S::Never)), false), TYPED, Deny(Denial::Blocked)),
        // Plugins get nothing by default.
        ("plugin, nothing granted", manifest(Risk::ReadOnly, &[Capability::Network], plugin()), grants(None), TYPED, Deny(Denial::MissingGrant(Capability::Network))),
        ("plugin, notes not granted", manifest(Risk::ChangesLocalData, &[notes()], plugin()), grants(Some(S::Allow)), TYPED, Deny(Denial::MissingGrant(notes()))),
        ("plugin, granted", manifest(Risk::ReadOnly, &[Capability::Network], plugin()), with_caps(grants(None), &[Capability::Network]), TYPED, Allow(A::ReadOnly)),
        ("plugin, one of two granted", manifest(Risk::ReadOnly, &[Capability::Network, Capability::Clipboard], plugin()), with_caps(grants(None), &[Capability::Network]), TYPED, Deny(Denial::MissingGrant(Capability::Clipboard))),
        ("built-in, fixed capabilities need no grant", manifest(Risk::ReachesOutside, &[xdg_open(), Capability::Notify], builtin.clone()), grants(Some(S::Allow)), TYPED, Allow(A::UserAllows)),
    ];
    let mut failures = Vec::new();
    for (name, manifest, grants, origin, expected) in &cases {
        let got = decide(manifest, grants, *origin);
        if &got != expected {
            failures.push(format!("{name}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn safe_defaults_by_risk() {
    assert_eq!(ToolSetting::default_for(Risk::ReadOnly), S::Allow);
    assert_eq!(
        ToolSetting::default_for(Risk::ChangesLocalData),
        S::AskFirstTime
    );
    assert_eq!(
        ToolSetting::default_for(Risk::ReachesOutside),
        S::AskFirstTime
    );
    assert_eq!(ToolSetting::default_for(Risk::Sends), S::AlwaysAsk);
    assert_eq!(ToolSetting::default_for(Risk::Destructive), S::AlwaysAsk);
    for s in [S::AlwaysAsk, S::AskFirstTime, S::Allow, S::Never] {
        assert_eq!(ToolSetting::parse(s.as_str()), Some(s));
    }
}

#[test]
fn denials_name_the_missing_grant_and_how_to_give_it() {
    let message = Denial::MissingGrant(folders()).message("find_files");
    assert!(
        message.contains("`read:user-folders`")
            && message.contains("sotto tools grant find_files --folder DIR"),
        "{message}"
    );
    let message = Denial::MissingGrant(Capability::Network).message("weather");
    assert!(
        message.contains("`network`") && message.contains("--capability network"),
        "{message}"
    );
    assert!(Denial::Blocked
        .message("open_url")
        .contains("turned off in your settings"));
}

#[test]
fn grants_from_their_stored_forms() {
    let grants = ToolGrants::from_stored(
        Some("allow"),
        true,
        ["network", "fly:away", "spawn:any-command"],
        [(PathBuf::from("/home/u/Documents"), true)],
    );
    assert_eq!(grants.setting, Some(S::Allow));
    assert!(grants.confirmed_before);
    assert_eq!(
        grants.capabilities.iter().cloned().collect::<Vec<_>>(),
        [
            Capability::Spawn(SpawnScope::AnyCommand),
            Capability::Network
        ]
    );
    assert_eq!(grants.folders.len(), 1);
    assert_eq!(
        ToolGrants::from_stored(Some("maybe"), false, [], []).setting,
        None
    );
}
