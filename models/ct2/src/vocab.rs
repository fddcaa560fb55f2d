//! The vocabulary whisper.cpp stores in its model file: the raw bytes of each ordinary token,
//! in id order. CTranslate2 and Hugging Face keep tokens in GPT-2's byte-level spelling (every
//! byte mapped to a printable character, `Ġ` for a space); this module undoes that mapping.
//!
//! Only the ordinary tokens are written (ids below `<|endoftext|>`), as whisper.cpp's own
//! converter does: the loader names the special tokens itself and derives their ids from
//! `n_vocab` alone. So this module also checks that the model's special tokens sit where
//! whisper.cpp will look for them; a model where they do not would load and then decode
//! nonsense.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ConvertError;

/// Real vocabulary files are 0.4-2.5 MB; anything far larger is not one.
const MAX_VOCAB_FILE: u64 = 64 << 20;
/// Whisper's vocabularies have ~52k ids; a tokenizer.json claiming ids past this is corrupt.
const MAX_TOKEN_ID: u64 = 1 << 20;

/// Tokens by id; `None` where the source has no token for an id.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    pub(crate) path: PathBuf,
    tokens: Vec<Option<String>>,
}

/// Where whisper.cpp puts the special tokens for a model with `n_vocab` ids (the defaults and
/// adjustments in `whisper_model_load`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpecialIds {
    pub(crate) multilingual: bool,
    pub(crate) eot: usize,
    pub(crate) sot: usize,
    pub(crate) n_languages: usize,
    translate: usize,
    transcribe: usize,
    solm: usize,
    prev: usize,
    nosp: usize,
    not: usize,
    beg: usize,
}

impl SpecialIds {
    pub(crate) fn for_vocab_size(n_vocab: usize) -> Result<SpecialIds, ConvertError> {
        let multilingual = n_vocab >= 51865;
        let m = usize::from(multilingual);
        // whisper.cpp: num_languages() = n_vocab - 51765 - is_multilingual; the English-only
        // layout has no language shift.
        let n_languages = n_vocab.checked_sub(51765 + m).filter(|&n| n >= 98);
        let Some(n_languages) = n_languages else {
            return Err(ConvertError::Unsupported(format!(
                "a vocabulary of {n_vocab} tokens is smaller than any Whisper model's (51864)"
            )));
        };
        let dt = if multilingual { n_languages - 98 } else { 0 };
        Ok(SpecialIds {
            multilingual,
            eot: 50256 + m,
            sot: 50257 + m,
            n_languages,
            translate: 50357 + dt,
            transcribe: 50358 + dt,
            solm: 50359 + dt,
            prev: 50360 + dt,
            nosp: 50361 + dt,
            not: 50362 + dt,
            beg: 50363 + dt,
        })
    }
}

impl Vocabulary {
    /// Reads the first of `vocabulary.json`, `vocabulary.txt` (both CTranslate2's, all ids in
    /// order) and `tokenizer.json` (Hugging Face's) found in `dir`.
    pub(crate) fn load(dir: &Path) -> Result<Vocabulary, ConvertError> {
        for (name, parse) in [
            (
                "vocabulary.json",
                parse_json_list as fn(&str) -> Result<_, String>,
            ),
            ("vocabulary.txt", parse_lines),
            ("tokenizer.json", parse_tokenizer_json),
        ] {
            let path = dir.join(name);
            if !path.is_file() {
                continue;
            }
            let text = read_bounded(&path)?;
            let tokens = parse(&text).map_err(|reason| ConvertError::Vocabulary {
                path: path.clone(),
                reason,
            })?;
            return Ok(Vocabulary { path, tokens });
        }
        Err(ConvertError::MissingVocabulary {
            dir: dir.to_owned(),
        })
    }

    fn get(&self, id: usize) -> Option<&str> {
        self.tokens.get(id).and_then(|t| t.as_deref())
    }

    /// The byte strings of ids `0..eot`, after checking the special tokens are where
    /// whisper.cpp expects them for this vocabulary size.
    pub(crate) fn whisper_tokens(&self, ids: &SpecialIds) -> Result<Vec<Vec<u8>>, ConvertError> {
        let mut expect = vec![
            (ids.eot, &["<|endoftext|>"][..]),
            (ids.sot, &["<|startoftranscript|>"]),
            (ids.translate, &["<|translate|>"]),
            (ids.transcribe, &["<|transcribe|>"]),
            (ids.solm, &["<|startoflm|>"]),
            (ids.prev, &["<|startofprev|>"]),
            (ids.nosp, &["<|nocaptions|>", "<|nospeech|>"]),
            (ids.not, &["<|notimestamps|>"]),
            (ids.beg, &["<|0.00|>"]),
        ];
        if ids.multilingual {
            expect.push((ids.sot + 1, &["<|en|>"]));
        }
        // The end-of-text token must be there: it shows the vocabulary reaches the end of the
        // ordinary tokens, so a cut-short file cannot pass as one with gaps.
        if self.get(ids.eot).is_none() {
            return Err(self.error(format!(
                "no <|endoftext|> token at id {}: the vocabulary has {} tokens, where this \
                 model needs at least {}",
                ids.eot,
                self.tokens.iter().flatten().count(),
                ids.eot + 1,
            )));
        }
        let missing = (0..ids.eot).filter(|&id| self.get(id).is_none()).count();
        if missing > 1 {
            return Err(self.error(format!(
                "{missing} of the ordinary token ids below {} have no token",
                ids.eot
            )));
        }
        for (id, names) in expect {
            // A source that lacks the id (tokenizer.json has no timestamp tokens) cannot
            // contradict whisper.cpp; one that has a different token there does.
            if let Some(found) = self.get(id) {
                if !names.contains(&found) {
                    return Err(self.error(format!(
                        "token {id} is {found:?} but whisper.cpp expects {} there for a \
                         {}vocabulary of this size",
                        names[0],
                        if ids.multilingual {
                            "multilingual "
                        } else {
                            "English-only "
                        },
                    )));
                }
            }
        }

        (0..ids.eot)
            .map(|id| match self.get(id) {
                // Multilingual tokenizer.json files have no token 50256, which whisper.cpp's
                // own multilingual files store as an empty string.
                None => Ok(Vec::new()),
                Some(token) => token
                    .chars()
                    .map(byte_of)
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| {
                        self.error(format!(
                            "token {id} ({token:?}) is not in GPT-2's byte-level alphabet"
                        ))
                    }),
            })
            .collect()
    }

    fn error(&self, reason: String) -> ConvertError {
        ConvertError::Vocabulary {
            path: self.path.clone(),
            reason,
        }
    }
}

fn read_bounded(path: &Path) -> Result<String, ConvertError> {
    let len = fs::metadata(path)
        .map_err(|e| ConvertError::io("read", path, e))?
        .len();
    if len > MAX_VOCAB_FILE {
        return Err(ConvertError::Vocabulary {
            path: path.to_owned(),
            reason: format!("{len} bytes is far larger than any Whisper vocabulary"),
        });
    }
    let bytes = fs::read(path).map_err(|e| ConvertError::io("read", path, e))?;
    String::from_utf8(bytes).map_err(|e| ConvertError::Vocabulary {
        path: path.to_owned(),
        reason: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// CTranslate2's `vocabulary.json`: a JSON list of tokens in id order.
fn parse_json_list(text: &str) -> Result<Vec<Option<String>>, String> {
    let tokens: Vec<String> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON list of tokens: {e}"))?;
    Ok(tokens.into_iter().map(Some).collect())
}

/// CTranslate2's older `vocabulary.txt`: one token per line in id order. Byte-level tokens
/// never contain a raw newline or carriage return, so lines split unambiguously (and an empty
/// line is a real, empty token).
fn parse_lines(text: &str) -> Result<Vec<Option<String>>, String> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Err("the file is empty".to_owned());
    }
    Ok(text
        .split('\n')
        .map(|line| Some(line.strip_suffix('\r').unwrap_or(line).to_owned()))
        .collect())
}

/// Hugging Face's `tokenizer.json`: `model.vocab` (token -> id) plus `added_tokens`.
fn parse_tokenizer_json(text: &str) -> Result<Vec<Option<String>>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let vocab = json
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .ok_or("no model.vocab object")?;
    let added = json
        .get("added_tokens")
        .and_then(|v| v.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let entries = vocab
        .iter()
        .map(|(token, id)| (token.as_str(), id.as_u64()))
        .chain(
            added
                .iter()
                .map(|t| (t["content"].as_str().unwrap_or(""), t["id"].as_u64())),
        );
    let mut tokens: Vec<Option<String>> = Vec::new();
    for (token, id) in entries {
        let id = id
            .filter(|&id| id < MAX_TOKEN_ID)
            .ok_or_else(|| format!("token {token:?} has no valid id"))? as usize;
        if tokens.len() <= id {
            tokens.resize(id + 1, None);
        }
        tokens[id] = Some(token.to_owned());
    }
    if tokens.is_empty() {
        return Err("model.vocab is empty".to_owned());
    }
    Ok(tokens)
}

/// The byte GPT-2's `bytes_to_unicode` maps to `c`: printable Latin-1 bytes stand for
/// themselves, and the other 68 bytes are shifted, in order, to U+0100..U+0143.
fn byte_of(c: char) -> Option<u8> {
    let c = c as u32;
    if is_printable_byte(c) {
        return Some(c as u8);
    }
    let shifted = c.checked_sub(256)?;
    (0u32..256)
        .filter(|&b| !is_printable_byte(b))
        .nth(shifted as usize)
        .map(|b| b as u8)
}

fn is_printable_byte(b: u32) -> bool {
    matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(token: &str) -> Option<Vec<u8>> {
        token.chars().map(byte_of).collect()
    }

    #[test]
    fn byte_level_spelling_decodes_to_raw_bytes() {
        for (token, bytes) in [
            ("hello", &b"hello"[..]),
            ("Ġtimer", b" timer"),
            ("Ċ", b"\n"),
            ("ĉ", b"\t"),
            ("Ā", b"\0"),
            ("Ń", &[0xad]),
            // "é" in UTF-8 is C3 A9, spelled with the characters for those two bytes.
            ("Ã©", "é".as_bytes()),
        ] {
            assert_eq!(decode(token).as_deref(), Some(bytes), "{token}");
        }
        assert_eq!(
            decode("ń"),
            None,
            "U+0144 is past the 256 mapped characters"
        );
        assert_eq!(decode("<|x|>").as_deref(), Some(&b"<|x|>"[..]));
    }

    #[test]
    fn every_byte_has_exactly_one_character() {
        let mut seen = [false; 256];
        for c in (0u32..0x144).filter_map(char::from_u32) {
            if let Some(b) = byte_of(c) {
                assert!(!seen[b as usize], "byte {b} mapped twice");
                seen[b as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn special_ids_follow_whisper_cpp() {
        let en = SpecialIds::for_vocab_size(51864).unwrap();
        assert_eq!(
            (en.multilingual, en.eot, en.sot, en.not, en.beg),
            (false, 50256, 50257, 50362, 50363)
        );
        let base = SpecialIds::for_vocab_size(51865).unwrap();
        assert_eq!(
            (
                base.multilingual,
                base.eot,
                base.n_languages,
                base.translate,
                base.beg
            ),
            (true, 50257, 99, 50358, 50364)
        );
        let v3 = SpecialIds::for_vocab_size(51866).unwrap();
        assert_eq!((v3.n_languages, v3.translate, v3.beg), (100, 50359, 50365));
        assert!(SpecialIds::for_vocab_size(50000).is_err());
    }

    #[test]
    fn lines_keep_empty_tokens_and_drop_the_final_newline() {
        let tokens = parse_lines("a\n\nb\r\n").unwrap();
        assert_eq!(
            tokens,
            vec![Some("a".into()), Some(String::new()), Some("b".into())]
        );
        assert!(parse_lines("").is_err());
    }

    #[test]
    fn tokenizer_json_merges_added_tokens_and_rejects_absurd_ids() {
        let t = parse_tokenizer_json(
            r#"{"model":{"vocab":{"a":0,"c":2}},"added_tokens":[{"id":3,"content":"<|x|>"}]}"#,
        )
        .unwrap();
        assert_eq!(
            t,
            vec![
                Some("a".into()),
                None,
                Some("c".into()),
                Some("<|x|>".into())
            ]
        );
        assert!(parse_tokenizer_json(r#"{"model":{"vocab":{"a":4000000000}}}"#).is_err());
        assert!(parse_tokenizer_json(r#"{"model":{}}"#).is_err());
    }
}
