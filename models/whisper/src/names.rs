//! Which of the user's names a plain transcript may have misheard.
//!
//! Whisper hears a rare name as the common words that sound most like it ("Kalshivon Murphy"
//! for "call Siobhan Murphy", "start on the moon" for "start Thunderbird"), so a name is
//! suspected wherever a run of the transcript's words *sounds* like it: their Metaphone codes
//! (spelling reduced to consonant sounds, words run together as speech runs them) share most
//! of their letters in order. Gated fusion decodes again, with the model and the user's names
//! in the prompt (those first), only then: speech that names nobody keeps plain Whisper's
//! transcript, which a prompt full of names makes worse (list-style output, "13, Thirteen,").

use rphonetic::{Encoder, Metaphone};

/// Phonetic codes shorter than this ("Li", "Al") sound like too many words to tell.
const MIN_CODE: usize = 3;

/// The names, in the order given, that some run of `transcript`'s words sounds like with a
/// similarity of at least `min_similarity` (0-1). A name the transcript already spells exactly
/// is not suspected: there is nothing to repair.
pub fn suspected<'a>(names: &'a [String], transcript: &str, min_similarity: f32) -> Vec<&'a str> {
    let encoder = Metaphone::new(None);
    let heard = words(transcript);
    let codes: Vec<String> = heard.iter().map(|w| encoder.encode(w)).collect();
    let mut found = Vec::new();
    for name in names {
        // Split as the transcript is, so "Tadhg O'Sullivan" compares with "tadhg o'sullivan".
        let name_words = words(name);
        if name_words.is_empty() {
            continue;
        }
        let code = encoder.encode(&name_words.concat());
        if code.chars().count() < MIN_CODE {
            continue;
        }
        let n = name_words.len();
        if heard.windows(n).any(|run| run == name_words.as_slice()) {
            continue;
        }
        let best = (n.saturating_sub(1).max(1)..=n + 1)
            .flat_map(|len| heard.windows(len).zip(codes.windows(len)))
            .map(|(run, run_codes)| {
                // The run's words said together: one code for the whole run, as for the name.
                let joined = if run.len() == 1 {
                    run_codes[0].clone()
                } else {
                    encoder.encode(&run.concat())
                };
                similarity(&joined, &code)
            })
            .fold(0.0f32, f32::max);
        if best >= min_similarity && !found.contains(&name.as_str()) {
            found.push(name.as_str());
        }
    }
    found
}

/// Whether a fused transcript says far more than Whisper's own (`plain`) did: more than half
/// as many words again, plus two. A name may take fewer words than its mishearing ("Kidding
/// Live" -> "Kdenlive") or a few more, but a fused search that loops ("Send maybe a little
/// bit like ... Send maybe a little bit like ...") is worse than the mishearing.
pub fn runs_on(plain: &str, fused: &str) -> bool {
    let (plain, fused) = (words(plain).len(), words(fused).len());
    fused > plain + plain / 2 + 2
}

/// Whether the fused transcript lost a name that Whisper's own (`plain`) already spelled:
/// fusion is there to repair names, and a second decode pulled towards another name can
/// undo one that was right ("Open Gimp" -> "Open Game").
pub fn loses_a_name(names: &[String], plain: &str, fused: &str) -> bool {
    let (plain, fused) = (words(plain), words(fused));
    let says = |heard: &[String], name: &[String]| heard.windows(name.len()).any(|run| run == name);
    names
        .iter()
        .map(|name| words(name))
        .filter(|name| !name.is_empty())
        .any(|name| says(&plain, &name) && !says(&fused, &name))
}

/// Lower-case words of letters, digits and apostrophes.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// How alike two codes are: twice their longest common subsequence over their total length
/// (1 for equal codes, 0 for nothing in common).
fn similarity(a: &str, b: &str) -> f32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    // One row of the classic dynamic programme at a time.
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    for &x in &a {
        for (j, &y) in b.iter().enumerate() {
            current[j + 1] = if x == y {
                previous[j] + 1
            } else {
                current[j].max(previous[j + 1])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let common = previous[b.len()];
    2.0 * common as f32 / (a.len() + b.len()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_fused_transcript_may_not_run_far_past_whisper() {
        assert!(!runs_on("launch Kidding Live", "Launch Kdenlive."));
        assert!(!runs_on(
            "Call Matthews and Waggie sick",
            "Call Mateusz Wojcik, please."
        ));
        assert!(runs_on(
            "Send me via delacuar near onboarding checklist.",
            "Send maybe a little bit like what the onboarding checklist. Send maybe a little \
             bit like one the onboarding checklist."
        ));
        assert!(runs_on("", "a b c"));
        assert!(!runs_on("", "a b"));
    }

    #[test]
    fn a_fused_transcript_may_not_lose_a_name_whisper_spelled() {
        let apps = names(&["GIMP", "Thunderbird", "Tadhg O'Sullivan"]);
        assert!(loses_a_name(&apps, "Open Gimp", "Open Game!"));
        assert!(loses_a_name(
            &apps,
            "call Tadhg O'Sullivan",
            "call Tadhg O Sullivan"
        ));
        // Repairing one and keeping the other is what fusion is for.
        assert!(!loses_a_name(
            &apps,
            "open gimp and start on the bird",
            "Open GIMP and start Thunderbird."
        ));
        assert!(!loses_a_name(
            &apps,
            "Start on the moon.",
            "Start Thunderbird,"
        ));
        assert!(!loses_a_name(&[], "Open Gimp", "Open Game"));
    }

    #[test]
    fn similarity_is_the_share_of_letters_in_common_in_order() {
        assert_eq!(similarity("TNTRBRT", "TNTRBRT"), 1.0);
        assert_eq!(similarity("ABC", "XYZ"), 0.0);
        // "ABCD" and "ABD": 3 in common of 7 letters.
        assert!((similarity("ABCD", "ABD") - 6.0 / 7.0).abs() < 1e-6);
        assert!((similarity("ABCD", "DCBA") - 2.0 / 8.0).abs() < 1e-6);
    }

    #[test]
    fn misheard_names_are_suspected_across_word_boundaries() {
        let list = names(&[
            "Kdenlive",
            "Thunderbird",
            "PostgreSQL",
            "grocery list",
            "Inkscape",
        ]);
        // Whisper's real mishearings of these (tiny.en, espeak-ng voices).
        for (heard, name) in [
            ("Launch Kidding Live.", "Kdenlive"),
            ("Open Tanger Bird.", "Thunderbird"),
            (
                "Search the web for Post-Goresquale Replication.",
                "PostgreSQL",
            ),
            ("Read my note called \"grossery list.\"", "grocery list"),
            ("Open Inkskate.", "Inkscape"),
        ] {
            assert_eq!(suspected(&list, heard, 0.7), vec![name], "{heard}");
        }
    }

    #[test]
    fn speech_that_names_nobody_suspects_nothing() {
        let list = names(&[
            "Siobhan Murphy",
            "Thunderbird",
            "Kdenlive",
            "Oluwaseun Adeyemi",
        ]);
        for text in [
            "Please enter your extension followed by the pound key.",
            "Thank you for calling.",
            "",
        ] {
            assert_eq!(suspected(&list, text, 0.75), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn a_name_already_spelled_right_is_not_suspected() {
        let list = names(&["Inkscape", "Blender"]);
        assert_eq!(suspected(&list, "Open Inkscape.", 0.7), Vec::<&str>::new());
    }

    #[test]
    fn short_codes_and_empty_names_are_ignored_and_order_is_kept() {
        let list = names(&["Al", "", "Zotero", "Krita"]);
        // "Al" codes to "AL": too short to tell from "all".
        assert_eq!(
            suspected(&list, "call all of them", 0.5),
            Vec::<&str>::new()
        );
        assert_eq!(
            suspected(&list, "open Kreeta and Zoterro", 0.7),
            vec!["Zotero", "Krita"]
        );
    }
}
