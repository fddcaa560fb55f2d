//! The speech sets `sotto bench asr` and `sotto eval asr` measure on: real recorded prompts
//! (Debian's asterisk-core-sounds-en, read by a professional voice at 8 kHz) and spoken
//! assistant commands synthesised with espeak-ng in several voices, speeds and noise levels.
//! Both are built on this machine at run time; nothing here is tuned to particular clips.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// One utterance to recognise.
#[derive(Debug, Clone)]
pub struct Clip {
    pub name: String,
    pub reference: String,
    /// 16 kHz mono.
    pub samples: Vec<i16>,
}

impl Clip {
    pub fn audio_ms(&self) -> u64 {
        self.samples.len() as u64 / 16
    }
}

const ASTERISK_TRANSCRIPTS: &str = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz";
const ASTERISK_SOUNDS: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";

/// `limit` Asterisk prompts spread evenly over the whole set (sorted by name), skipping tones
/// and prompts longer than `max_seconds` (commands are short).
pub fn asterisk(limit: usize, max_seconds: f64) -> Result<Vec<Clip>> {
    let output = Command::new("zcat")
        .arg(ASTERISK_TRANSCRIPTS)
        .output()
        .context("zcat runs")?;
    if !output.status.success() {
        bail!("cannot read {ASTERISK_TRANSCRIPTS}: install the Debian packages asterisk-core-sounds-en and asterisk-core-sounds-en-wav");
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut entries: Vec<(String, String, PathBuf)> = text
        .lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| l.split_once(": "))
        // Entries whose transcript is all annotation ("[tone]", "(5 seconds of silence)",
        // "<beep ascending>") hold no speech to recognise.
        .filter(|(_, t)| !crate::wer::normalize(t).is_empty())
        .map(|(k, t)| {
            (
                k.trim().to_string(),
                t.trim().to_string(),
                Path::new(ASTERISK_SOUNDS).join(format!("{}.wav", k.trim())),
            )
        })
        .filter(|(_, _, p)| p.is_file())
        .collect();
    entries.sort();
    let mut clips = Vec::new();
    for (name, reference, path) in entries {
        let audio = sotto_audio::decode_file(&path)
            .with_context(|| format!("decoding {}", path.display()))?;
        let samples = sotto_audio::to_16k_mono_i16(&audio);
        if samples.len() as f64 / 16_000.0 <= max_seconds {
            clips.push(Clip {
                name,
                reference,
                samples,
            });
        }
    }
    Ok(spread(clips, limit))
}

fn spread(clips: Vec<Clip>, limit: usize) -> Vec<Clip> {
    if clips.len() <= limit || limit == 0 {
        return clips;
    }
    let step = clips.len() as f64 / limit as f64;
    (0..limit)
        .map(|i| clips[(i as f64 * step) as usize].clone())
        .collect()
}

/// Things people say to a desktop assistant.
const COMMANDS: &[&str] = &[
    "set a timer for ten minutes",
    "open the web browser",
    "what time is it",
    "turn the volume down",
    "mute the sound",
    "play the next song",
    "pause the music",
    "lock the screen",
    "create a note called groceries",
    "add milk and eggs to my shopping list",
    "remind me to call the dentist tomorrow morning",
    "email Alice the notes from today's meeting",
    "search the web for cheap flights to Lisbon",
    "open the downloads folder",
    "find the file called budget report",
    "what is twenty five times four",
    "convert ten miles to kilometers",
    "copy that to the clipboard",
    "schedule a meeting with Bob on Friday at three",
    "read my last note",
    "start a stopwatch",
    "cancel the timer",
    "open the calculator",
    "show me my calendar for next week",
    "turn the volume up a little",
    "summarize this document",
    "type hello world",
    "what is the weather like today",
    "call my sister",
    "send a message to the team saying I will be late",
    "open the settings",
    "close this window",
    "take a screenshot",
    "set an alarm for seven in the morning",
    "how many days until Christmas",
    "open my documents",
    "delete the note about the party",
    "list my reminders",
    "play some jazz",
    "skip this track",
    "what is on my schedule today",
    "write down that the meeting moved to Tuesday",
    "open the terminal",
    "look up the phone number for Carol",
    "save this page as a bookmark",
    "remind me in half an hour to stretch",
    "find pictures from last summer",
    "what is the capital of Australia",
];

/// Voices and speaking rates cycled over the commands; every fourth clip gets background noise.
const VOICES: &[(&str, u32)] = &[
    ("en-us", 160),
    ("en-gb", 140),
    ("en-us+f3", 175),
    ("en-gb-x-rp", 150),
    ("en-029", 145),
    ("en-us+m3", 130),
];

/// The spoken command set, synthesised into `dir`.
pub fn spoken_commands(dir: &Path) -> Result<Vec<Clip>> {
    let chosen: Vec<(usize, &str)> = COMMANDS.iter().copied().enumerate().collect();
    synthesise(dir, "c", &chosen)
}

/// Speaks each `(index, text)` with the voice, speed and noise its index picks.
fn synthesise(dir: &Path, prefix: &str, chosen: &[(usize, &str)]) -> Result<Vec<Clip>> {
    let mut clips = Vec::with_capacity(chosen.len());
    for &(i, text) in chosen {
        let (voice, wpm) = VOICES[i % VOICES.len()];
        let raw = dir.join(format!("{prefix}{i}-raw.wav"));
        let out = dir.join(format!("{prefix}{i}.wav"));
        let status = Command::new("espeak-ng")
            .args(["-v", voice, "-s", &wpm.to_string(), "-w"])
            .arg(&raw)
            .arg(text)
            .status()
            .context("espeak-ng is needed for the spoken command set (apt install espeak-ng)")?;
        if !status.success() {
            bail!("espeak-ng failed for voice {voice}");
        }
        let mut sox = Command::new("sox");
        // Half a second of silence around the speech, as a push-to-talk recording has.
        sox.arg(&raw)
            .args(["-r", "16000", "-c", "1", "-b", "16"])
            .arg(&out)
            .args(["pad", "0.3", "0.3"]);
        let status = sox
            .status()
            .context("sox is needed for the spoken command set (apt install sox)")?;
        if !status.success() {
            bail!("sox failed on {}", raw.display());
        }
        let mut samples = sotto_audio::to_16k_mono_i16(&sotto_audio::decode_file(&out)?);
        let noisy = i % 4 == 3;
        if noisy {
            add_noise(&mut samples, i as u64, 0.02);
        }
        let name = format!("{voice}@{wpm}{} {text}", if noisy { " +noise" } else { "" });
        clips.push(Clip {
            name,
            reference: text.to_string(),
            samples,
        });
    }
    Ok(clips)
}

/// White noise at `level` of full scale, from a fixed-seed generator (repeatable runs).
fn add_noise(samples: &mut [i16], seed: u64, level: f64) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for sample in samples {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let uniform = (state >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0;
        let value = *sample as f64 + uniform * level * 32767.0;
        *sample = value.clamp(-32768.0, 32767.0) as i16;
    }
}

/// The user behind the names-and-jargon set: what their address book, applications, notes
/// and custom vocabulary hold. The fusion evaluation builds its personal language model from
/// these lists and the tools' own examples, never from the commands below.
#[derive(Debug, Clone)]
pub struct Profile {
    pub contacts: &'static [&'static str],
    pub apps: &'static [&'static str],
    pub note_titles: &'static [&'static str],
    /// Words and phrases the user added with `sotto vocab add`.
    pub jargon: &'static [&'static str],
}

pub const NAMES_PROFILE: Profile = Profile {
    contacts: &[
        "Siobhan Murphy",
        "Priya Raghunathan",
        "Joaquin Alvarez",
        "Aoife Brennan",
        "Thanh Nguyen",
        "Magdalena Kowalski",
        "Ngozi Okafor",
        "Tadhg O'Sullivan",
        "Saoirse Keane",
        "Xavier Delacroix",
        "Lars Henriksen",
        "Mateusz Wojcik",
        "Ingrid Solberg",
        "Rashida Haddad",
        "Kenji Takahashi",
        "Oluwaseun Adeyemi",
    ],
    apps: &[
        "Inkscape",
        "Thunderbird",
        "LibreOffice Writer",
        "GIMP",
        "Audacity",
        "Kdenlive",
        "Blender",
        "Krita",
        "Obsidian",
        "Zotero",
        "KeePassXC",
        "Nextcloud",
    ],
    note_titles: &[
        "quarterly roadmap",
        "sprint retrospective",
        "onboarding checklist",
        "grocery list",
        "conference travel",
        "kitchen renovation",
    ],
    jargon: &[
        "Kubernetes",
        "PostgreSQL",
        "Grafana",
        "Terraform",
        "Ansible",
        "OAuth",
        "webhook",
        "TensorFlow",
        "nginx",
        "YAML",
        "Prometheus",
        "Jenkins pipeline",
        "pull request",
        "Elasticsearch",
    ],
};

/// Commands that name the profile's people, applications, notes and jargon: what plain
/// Whisper gets wrong. Even-numbered ones tune the fusion weights, odd-numbered ones report.
pub const NAMES_COMMANDS: &[&str] = &[
    "call Siobhan Murphy",
    "open Inkscape",
    "email Priya the Grafana dashboard link",
    "send a message to Joaquin saying the Kubernetes cluster is down",
    "start Thunderbird",
    "remind me to review Aoife's pull request tomorrow",
    "open the note called quarterly roadmap",
    "text Thanh Nguyen that I am running late",
    "launch Kdenlive",
    "schedule a meeting with Magdalena Kowalski on Monday",
    "search the web for PostgreSQL replication",
    "call Ngozi Okafor",
    "open GIMP",
    "add a note to the sprint retrospective about the Terraform state",
    "email Tadhg the Ansible playbook",
    "look up the phone number for Saoirse Keane",
    "open Audacity",
    "remind me to renew the OAuth token on Friday",
    "send Xavier Delacroix the onboarding checklist",
    "start Blender",
    "message Lars Henriksen about the webhook",
    "open Krita",
    "call Mateusz Wojcik",
    "search for TensorFlow tutorials",
    "open Obsidian",
    "email Ingrid Solberg the nginx config",
    "read my note called grocery list",
    "text Rashida Haddad happy birthday",
    "open Zotero",
    "remind me to restart the Jenkins pipeline at five",
    "call Kenji Takahashi",
    "launch KeePassXC",
    "send Oluwaseun Adeyemi the conference travel note",
    "open Nextcloud",
    "email Siobhan about the Prometheus alerts",
    "open LibreOffice Writer",
    "schedule a call with Priya Raghunathan on Thursday",
    "search the web for Elasticsearch mappings",
    "text Joaquin Alvarez that the YAML file is fixed",
    "call Aoife Brennan",
    "open the kitchen renovation note",
    "email Thanh the Grafana screenshots",
    "message Magdalena about the Kubernetes upgrade",
    "start Inkscape",
    "remind me to call Ngozi at noon",
    "send Tadhg O'Sullivan the sprint retrospective",
    "open Thunderbird",
    "email Saoirse the PostgreSQL backup plan",
    "call Xavier",
    "open Kdenlive",
    "ask Lars to check the Terraform plan",
    "launch GIMP",
    "text Mateusz that the pull request is merged",
    "open Blender",
    "email Ingrid the Ansible inventory",
    "call Rashida",
    "open Audacity and Krita",
    "remind me to rotate the OAuth secrets next week",
    "message Kenji about the nginx logs",
    "open Obsidian",
    "send Oluwaseun the quarterly roadmap",
    "search for Prometheus exporters",
    "call Siobhan",
    "open Zotero and Nextcloud",
];

/// The names-and-jargon set: [`NAMES_COMMANDS`] synthesised into `dir` with the same voices,
/// speeds and noise as [`spoken_commands`]. `half` picks the tuning (even) or reporting (odd)
/// commands; `None` gives all.
pub fn spoken_names(dir: &Path, half: Option<Half>) -> Result<Vec<Clip>> {
    let all = NAMES_COMMANDS.iter().copied();
    // Each half on its own runs through every voice, speed and noise level.
    let (prefix, chosen): (&str, Vec<(usize, &str)>) = match half {
        None => ("n", all.enumerate().collect()),
        Some(Half::Tune) => ("nt", all.step_by(2).enumerate().collect()),
        Some(Half::Report) => ("nr", all.skip(1).step_by(2).enumerate().collect()),
    };
    synthesise(dir, prefix, &chosen)
}

/// Which half of a set with a tuning and a reporting half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    Tune,
    Report,
}
