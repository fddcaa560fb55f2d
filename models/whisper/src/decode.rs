//! Decisions about decoding that do not need the engine: how much of the 30 s window to
//! encode, and whether a transcript looks like a hallucination. Pure functions, unit-tested.

/// Encoder frames per second of audio (1500 frames for Whisper's 30 s window).
const FRAMES_PER_SECOND: f64 = 50.0;
pub const FULL_AUDIO_CTX: u32 = 1500;

/// The encoder context for an utterance of `audio_ms`: the audio plus 1 s of margin, rounded
/// up to a multiple of 64 frames, never below 192. Measured on this class of machine: a tighter
/// fit (128 frames for a 1.3 s clip) made Whisper repeat itself; this margin did not.
pub fn scaled_audio_ctx(audio_ms: u64) -> u32 {
    let frames = ((audio_ms as f64 / 1000.0 + 1.0) * FRAMES_PER_SECOND).ceil() as u32;
    let rounded = frames.div_ceil(64) * 64;
    rounded.clamp(192, FULL_AUDIO_CTX)
}

/// Silence put before the audio of a fitted (scaled) decode. Clipped recordings start with the
/// first word at once, right at the encoder's edge. Measured with tiny.en on 160 real prompts:
/// WER 7.7-8.0% without a lead-in, 6.5% with 300 ms (what the full window gets). 600 ms was no
/// better and slower.
pub const LEAD_IN_MS: u64 = 300;

/// `samples` (16 kHz) after [`LEAD_IN_MS`] of digital silence.
pub fn with_lead_in(samples: &[f32]) -> Vec<f32> {
    let lead = (LEAD_IN_MS * 16) as usize;
    let mut padded = vec![0.0; lead + samples.len()];
    padded[lead..].copy_from_slice(samples);
    padded
}

/// An upper bound on the tokens a person can say in `audio_ms` (fast speech is ~4 words/s,
/// ~1.4 tokens a word), so a runaway repetition stops early instead of filling 224 tokens.
pub fn max_tokens(audio_ms: u64) -> u32 {
    (audio_ms as f64 / 1000.0 * 8.0).ceil() as u32 + 12
}

/// Whisper's own threshold for a decode it should not trust (`logprob_threshold` in the
/// reference implementation, where it triggers a retry at a higher temperature).
pub const UNSURE_MEAN_LOGPROB: f32 = -1.0;

/// Whether a decode whose text tokens averaged `mean_logprob` is too unsure to keep: a scaled
/// decode that is, is redone on the full window, which the model was trained on.
pub fn unsure(mean_logprob: f32) -> bool {
    mean_logprob < UNSURE_MEAN_LOGPROB
}

/// When `text` is one stretch of words said over and over ("Skip this track. Skip this track.
/// Skip thi"), the first saying of it. That is how a fitted audio context fails: the right
/// words, then, where the full window would have ended, the same words again until the token
/// limit (the last copy may stop mid-word). Measured on tiny.en, cutting the loop gave the full
/// window's accuracy on spoken commands without redoing them; redoing every such decode on
/// the full window cost a second each. A person who really says "no, no" gets "no,".
pub fn first_of_repeats(text: &str) -> Option<&str> {
    // Each word's normalised form and where its token ends in `text`.
    let words: Vec<(String, usize)> = text
        .split_whitespace()
        .filter_map(|token| {
            let word: String = token
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            let end = token.as_ptr() as usize - text.as_ptr() as usize + token.len();
            (!word.is_empty()).then_some((word, end))
        })
        .collect();
    let n = words.len();
    (1..=n / 2)
        .find(|&period| {
            (0..n - period).all(|i| {
                let (copy, original) = (&words[i + period].0, &words[i].0);
                // The token limit can cut the last word short.
                copy == original || (i + period == n - 1 && original.starts_with(copy.as_str()))
            })
        })
        .map(|period| &text[..words[period - 1].1])
}

/// Whether `text` looks like the repetition loops a too-small audio context causes: an n-gram
/// (1-4 words) repeated three or more times in a row, or far more words than the audio allows.
pub fn looks_hallucinated(text: &str, audio_ms: u64) -> bool {
    // Runs of bare punctuation (". . . ." or "' ' ' '") are what a starved decoder emits
    // when it has nothing to say.
    let bare_marks = text
        .split_whitespace()
        .filter(|t| !t.chars().any(char::is_alphanumeric))
        .count();
    if bare_marks >= 3 {
        return true;
    }
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let seconds = audio_ms as f64 / 1000.0;
    if words.len() as f64 > 6.0 * seconds + 4.0 {
        return true;
    }
    // The whole utterance said twice ("Thank you. Thank you."): a command is said once.
    if words.len() >= 4
        && words.len().is_multiple_of(2)
        && words[..words.len() / 2] == words[words.len() / 2..]
    {
        return true;
    }
    for n in 1..=4 {
        // "no no no" is something people say; a single word must repeat four times.
        let needed = if n == 1 { 4 } else { 3 };
        if words.len() < n * needed {
            continue;
        }
        for start in 0..=words.len() - n * needed {
            let gram = &words[start..start + n];
            if (1..needed).all(|k| &words[start + k * n..start + (k + 1) * n] == gram) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_ctx_has_a_margin_a_floor_and_a_ceiling() {
        assert_eq!(scaled_audio_ctx(0), 192);
        assert_eq!(scaled_audio_ctx(1300), 192); // 115 frames -> 128 -> floor 192
        assert_eq!(scaled_audio_ctx(3000), 256); // 200 frames -> 256
        assert_eq!(scaled_audio_ctx(5000), 320); // 300 -> 320
        assert_eq!(scaled_audio_ctx(60_000), FULL_AUDIO_CTX);
    }

    #[test]
    fn repetition_loops_are_flagged_and_normal_speech_is_not() {
        let cases: &[(&str, u64, bool)] = &[
            ("Set a timer for ten minutes.", 2000, false),
            ("No, no, no. Cancel that.", 2000, false),
            ("open firefox open firefox open firefox", 2000, true),
            ("the the the the", 3000, true),
            ("Thank you. Thank you. Thank you.", 2000, true),
            ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen", 1000, true),
            ("Email Alice the notes from today's meeting and remind me tomorrow at nine.", 4000, false),
            ("", 1000, false),
            ("Thank you. Thank you.", 1000, true),
            ("to remove the participant to remove the participant", 3000, true),
            (". . . . . .", 1000, true),
            ("' ' ' ' ' '", 1000, true),
            ("Call Bob - now.", 1500, false),
            ("bye bye", 1000, false),
        ];
        for (text, ms, expected) in cases {
            assert_eq!(looks_hallucinated(text, *ms), *expected, "{text:?}");
        }
    }

    #[test]
    fn a_loop_of_one_saying_is_cut_to_the_first() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Skip this track. Skip this track. Skip this track. Skip thi",
                Some("Skip this track."),
            ),
            ("16 16 16 16 16 16", Some("16")),
            ("Thank you. Thank you.", Some("Thank you.")),
            ("Calling Calling Calling Callin", Some("Calling")),
            (
                "Open My not Humans Open My Noc Humans Open My Noc Humans",
                None,
            ),
            ("3D Audio Disabled Disabled", None),
            ("Set a timer for ten minutes.", None),
            ("one", None),
            ("", None),
            ("... ...", None),
            // Less than twice over is not a loop.
            ("play it again, play it", None),
            ("play it again, play it again, pl", Some("play it again,")),
            ("Press 1. Press 1, please.", None),
        ];
        for (text, expected) in cases {
            assert_eq!(first_of_repeats(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn the_lead_in_is_silence_before_the_samples() {
        let padded = with_lead_in(&[0.5, -0.5]);
        assert_eq!(padded.len(), 300 * 16 + 2);
        assert!(padded[..300 * 16].iter().all(|&s| s == 0.0));
        assert_eq!(&padded[300 * 16..], &[0.5, -0.5]);
    }

    #[test]
    fn max_tokens_grows_with_the_audio() {
        assert_eq!(max_tokens(0), 12);
        assert_eq!(max_tokens(2000), 28);
        assert!(max_tokens(30_000) >= 224);
    }
}
