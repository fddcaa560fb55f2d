//! `volume`: the default output's volume and mute, through `pactl`, which speaks to
//! PulseAudio and to PipeWire's PulseAudio server alike.
//!
//! Volume changes are computed here and set as an absolute percentage, capped at 100%:
//! "louder" never pushes a sink into over-amplification, however often it is said.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, Launcher};
use sotto_tools::{
    Capability, Example, Reply, Risk, SpawnScope, ToolContext, ToolError, ToolInfo, TypedTool,
};

const PACTL: &str = "pactl";
const SINK: &str = "@DEFAULT_SINK@";
const TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_STEP: u32 = 10;
const MAX_PERCENT: u32 = 100;

#[derive(Debug)]
pub struct Volume;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VolumeAction {
    Up,
    Down,
    Set,
    Mute,
    Unmute,
    ToggleMute,
    Get,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeArgs {
    pub action: VolumeAction,
    /// For `set`: the new volume; for `up` and `down`: the step (default 10).
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub percent: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VolumeState {
    /// The default output's volume after the change, in percent.
    pub percent: u32,
    pub muted: bool,
}

async fn pactl(
    launcher: &Launcher,
    args: &[&'static str],
    value: Option<String>,
) -> Result<String, ToolError> {
    let mut all: Vec<Arg> = args.iter().map(|a| Arg::Fixed(a)).collect();
    if let Some(value) = value {
        all.push(Arg::Configured(value));
    }
    let out = launcher.run(PACTL, &all, TIMEOUT).await?;
    if !out.success {
        return Err(ToolError::Failed(format!(
            "the sound server refused: {}",
            if out.stderr_tail.is_empty() {
                format!("pactl exit status {:?}", out.code)
            } else {
                out.stderr_tail
            }
        )));
    }
    Ok(out.stdout)
}

/// The first `NN%` in `pactl get-sink-volume` output (the first channel).
pub fn parse_percent(text: &str) -> Option<u32> {
    text.split_whitespace()
        .find_map(|word| word.strip_suffix('%')?.parse().ok())
}

/// `Mute: yes` / `Mute: no`.
pub fn parse_mute(text: &str) -> Option<bool> {
    match text.trim().strip_prefix("Mute:")?.trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

async fn state(launcher: &Launcher) -> Result<VolumeState, ToolError> {
    let volume = pactl(launcher, &["get-sink-volume", SINK], None).await?;
    let mute = pactl(launcher, &["get-sink-mute", SINK], None).await?;
    Ok(VolumeState {
        percent: parse_percent(&volume)
            .ok_or_else(|| ToolError::Failed(format!("cannot read the volume from: {volume}")))?,
        muted: parse_mute(&mute)
            .ok_or_else(|| ToolError::Failed(format!("cannot read mute from: {mute}")))?,
    })
}

impl TypedTool for Volume {
    type Args = VolumeArgs;
    type Output = VolumeState;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "(make it|turn it) louder {action=up}",
            "(make it|turn it) (quieter|softer) {action=down}",
            "turn (it|the volume|the sound) {action} by {percent} [percent|%]",
            "[turn] [the] (volume|sound) {action}",
            "turn (it|the volume|the sound) {action}",
            "set [the] volume to {percent} [percent|%] {action=set}",
            "mute [the] [sound|audio|volume] {action=mute}",
            "unmute [the] [sound|audio|volume] {action=unmute}",
            "(what's|what is) the volume {action=get}",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "volume",
            description: "Turns the sound volume up or down, sets it, or mutes and unmutes it.",
            examples: vec![
                Example::new("turn it up", json!({"action": "up"})),
                Example::new("volume down a bit", json!({"action": "down", "percent": 5})),
                Example::new(
                    "set the volume to 30 percent",
                    json!({"action": "set", "percent": 30}),
                ),
                Example::new("mute the sound", json!({"action": "mute"})),
                Example::new("unmute", json!({"action": "unmute"})),
                Example::new("how loud is it", json!({"action": "get"})),
            ],
            capabilities: vec![
                Capability::Audio,
                Capability::Spawn(SpawnScope::Program(PACTL.into())),
            ],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: VolumeArgs,
        context: &ToolContext,
    ) -> Result<Reply<VolumeState>, ToolError> {
        // pactl's messages are translated; its output is parsed, so it runs in the C locale.
        let launcher = &context.launcher(PACTL)?.in_c_locale();
        let before = state(launcher).await?;
        let step = args.percent.unwrap_or(DEFAULT_STEP);
        let target = match args.action {
            VolumeAction::Up => Some((before.percent + step).min(MAX_PERCENT)),
            VolumeAction::Down => Some(before.percent.saturating_sub(step)),
            VolumeAction::Set => Some(
                args.percent
                    .ok_or_else(|| {
                        ToolError::Refused("set the volume to how many percent?".into())
                    })?
                    .min(MAX_PERCENT),
            ),
            _ => None,
        };
        if let Some(percent) = target {
            pactl(
                launcher,
                &["set-sink-volume", SINK],
                Some(format!("{percent}%")),
            )
            .await?;
        }
        let mute = match args.action {
            VolumeAction::Mute => Some("1"),
            VolumeAction::Unmute => Some("0"),
            VolumeAction::ToggleMute => Some("toggle"),
            _ => None,
        };
        if let Some(mute) = mute {
            pactl(launcher, &["set-sink-mute", SINK, mute], None).await?;
        }
        let after = state(launcher).await?;
        let summary = match (args.action, after.muted) {
            (VolumeAction::Mute, _) | (VolumeAction::ToggleMute, true) => {
                "Sound muted.".to_string()
            }
            (VolumeAction::Unmute, _) | (VolumeAction::ToggleMute, false) => {
                format!("Sound on, at {}%.", after.percent)
            }
            (_, true) => format!("Volume {}% (muted).", after.percent),
            (_, false) => format!("Volume {}%.", after.percent),
        };
        Ok(Reply::new(after, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pactl_output() {
        let volume = "Volume: front-left: 32768 /  50% / -18.06 dB,   front-right: 32768 /  50% / -18.06 dB\n        balance 0.00\n";
        assert_eq!(parse_percent(volume), Some(50));
        assert_eq!(
            parse_percent("Volume: mono: 65536 / 100% / 0.00 dB"),
            Some(100)
        );
        assert_eq!(parse_percent("garbage"), None);
        assert_eq!(parse_mute("Mute: yes\n"), Some(true));
        assert_eq!(parse_mute("Mute: no"), Some(false));
        assert_eq!(parse_mute("Stumm: ja"), None);
    }
}
