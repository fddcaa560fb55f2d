//! `lock_screen` and `media_control`: the desktop session's own programs do the work.
//!
//! Locking asks logind (`loginctl lock-session`), which every desktop on systemd honours, and
//! falls back to `xdg-screensaver lock`. Media keys go to MPRIS players through `playerctl`
//! (Debian package `playerctl`), which speaks D-Bus for us.
//!
//! Why `playerctl` rather than MPRIS spoken in-process with `zbus`: every other desktop
//! protocol Sotto uses is spoken by the desktop's own maintained program (`xdg-open`, `pactl`,
//! `notify-send`, `xclip`), which keeps a D-Bus client stack (zbus and its few dozen crates)
//! out of the app, and keeps the [`sotto_sandbox::Launcher`] the one door to the machine: a
//! scrubbed environment, where `DBUS_SESSION_BUS_ADDRESS` comes only from `HostEnv`, and a
//! timeout. playerctl also knows the MPRIS naming conventions (`vlc` matches
//! `org.mpris.MediaPlayer2.vlc` and its `vlc.instance123` copies). The price is reading its
//! stderr for "No players found" instead of a typed error; the tests run the real playerctl
//! against fake players on a private session bus, so a playerctl that words it differently
//! fails there, not on a user's desktop.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, SafeText};
use sotto_tools::{
    Capability, Example, Reply, Risk, SpawnScope, ToolContext, ToolError, ToolInfo, TypedTool,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn spawn(program: &str) -> Capability {
    Capability::Spawn(SpawnScope::Program(program.into()))
}

#[derive(Debug)]
pub struct LockScreen;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockScreenArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Locked {
    /// The program that locked the screen.
    pub by: String,
}

impl TypedTool for LockScreen {
    type Args = LockScreenArgs;
    type Output = Locked;

    fn templates(&self) -> &'static [&'static str] {
        &["lock [the|my] (screen|computer|laptop|session)"]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "lock_screen",
            description: "Locks the screen.",
            examples: vec![
                Example::new("lock the screen", json!({})),
                Example::new("lock my computer", json!({})),
                Example::new("I'm going for lunch, lock it", json!({})),
            ],
            capabilities: vec![spawn("loginctl"), spawn("xdg-screensaver")],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        _: LockScreenArgs,
        context: &ToolContext,
    ) -> Result<Reply<Locked>, ToolError> {
        let launcher = context.launcher("loginctl")?;
        let mut problems = Vec::new();
        for (program, args) in [
            ("loginctl", [Arg::Fixed("lock-session")]),
            ("xdg-screensaver", [Arg::Fixed("lock")]),
        ] {
            match launcher.run(program, &args, TIMEOUT).await {
                Ok(out) if out.success => {
                    return Ok(Reply::new(
                        Locked {
                            by: program.to_string(),
                        },
                        "Screen locked.",
                    ))
                }
                Ok(out) => problems.push(format!("{program}: {}", out.stderr_tail)),
                Err(e) => problems.push(e.to_string()),
            }
        }
        Err(ToolError::Failed(format!(
            "cannot lock the screen ({})",
            problems.join("; ")
        )))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaAction {
    PlayPause,
    Play,
    Pause,
    Next,
    Previous,
    Stop,
}

impl MediaAction {
    fn command(self) -> &'static str {
        match self {
            MediaAction::PlayPause => "play-pause",
            MediaAction::Play => "play",
            MediaAction::Pause => "pause",
            MediaAction::Next => "next",
            MediaAction::Previous => "previous",
            MediaAction::Stop => "stop",
        }
    }
}

#[derive(Debug)]
pub struct MediaControl;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaControlArgs {
    pub action: MediaAction,
    /// A player's name (`spotify`, `vlc`) if the user named one; otherwise the active player.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    pub player: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MediaState {
    pub action: MediaAction,
    /// `Playing`, `Paused` or `Stopped`, as the player reports it afterwards.
    pub status: Option<String>,
}

impl TypedTool for MediaControl {
    type Args = MediaControlArgs;
    type Output = MediaState;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "[go back to] [the] (previous|last) (song|track) {action=previous}",
            "stop the (music|video|playback) {action=stop}",
            "lock [the|my] (screen|computer|laptop|desktop|session) now",
            "pause [the] (music|song|track|playback|video) {action=pause}",
            "(next|skip) [the|this] (song|track) {action=next}",
            "skip [this] song {action=next}",
            "previous (song|track) {action=previous}",
            "(play|resume) [the] (music|song|playback) {action=play}",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "media_control",
            description: "Plays, pauses, stops or skips the music or video that is playing.",
            examples: vec![
                Example::new("pause the music", json!({"action": "pause"})),
                Example::new("next song", json!({"action": "next"})),
                Example::new("resume playback", json!({"action": "play"})),
                Example::new(
                    "skip back in spotify",
                    json!({"action": "previous", "player": "spotify"}),
                ),
            ],
            capabilities: vec![Capability::Audio, spawn("playerctl")],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: MediaControlArgs,
        context: &ToolContext,
    ) -> Result<Reply<MediaState>, ToolError> {
        let launcher = context.launcher("playerctl")?.in_c_locale();
        let mut base = Vec::new();
        let player = args.player.as_deref().map(|p| p.trim().to_lowercase());
        if let Some(player) = &player {
            if !player
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(ToolError::Refused(format!(
                    "\"{player}\" is not a player name I can use"
                )));
            }
            base.push(Arg::Fixed("--player"));
            base.push(Arg::Text(SafeText::new(player)?));
        }
        let mut command = base.clone();
        command.push(Arg::Fixed(args.action.command()));
        let out = launcher.run("playerctl", &command, TIMEOUT).await?;
        if !out.success {
            let detail = out.stderr_tail;
            return Err(if detail.contains("No players found") {
                ToolError::Refused(match &player {
                    Some(name) => format!("no media player called {name} is running"),
                    None => "no media player is running".into(),
                })
            } else {
                ToolError::Failed(format!("the player refused: {detail}"))
            });
        }
        let mut status_command = base;
        status_command.push(Arg::Fixed("status"));
        let status = launcher
            .run("playerctl", &status_command, TIMEOUT)
            .await
            .ok()
            .filter(|o| o.success)
            .map(|o| o.stdout.trim().to_string())
            .filter(|s| !s.is_empty());
        let summary = match status.as_deref() {
            Some(status) => format!("Done; the player is {}.", status.to_lowercase()),
            None => "Done.".to_string(),
        };
        Ok(Reply::new(
            MediaState {
                action: args.action,
                status,
            },
            summary,
        ))
    }
}
