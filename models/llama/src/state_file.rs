//! A primed prompt's KV cache kept in a file, so that a new worker process loads it instead of
//! evaluating the planner's long stable prompt again (`Prime`'s `cache_file`).
//!
//! The state file is llama.cpp's own (`llama_state_save_file`: its magic, the token list,
//! then the context state). llama.cpp checks little of what it reads back (the architecture
//! and the cache's shape, some of it with asserts that abort), and nothing says which weights
//! the keys and values came from; so next to it a sidecar (`<file>.meta`, JSON) says which
//! worker build, model file and context size wrote it, and the state file's length and
//! checksum. A file is handed to llama.cpp only when all of that matches and the token list
//! in its header is exactly the prompt's; anything else is a reason to evaluate and rewrite.
//! Both files are written under temporary names in the same folder and renamed into place,
//! state first: a reader sees an old sidecar with a new state (a checksum mismatch) at worst.

use std::fs;
use std::path::{Path, PathBuf};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};

/// Bumped when the sidecar's meaning changes, or the layout of the cache it describes: 2 is
/// the KV cache without flash attention (whose values llama.cpp stores transposed), which a
/// state saved with it (format 1) must not be loaded into.
const FORMAT: u32 = 2;

/// llama.cpp's `LLAMA_SESSION_MAGIC` ("ggsn"), the state file's first four bytes.
const LLAMA_SESSION_MAGIC: u32 = 0x6767_736e;

/// What must match for a state file to be usable: the build that wrote it (llama.cpp's
/// numbers and state layout come with it), the model file and the context size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub worker: String,
    pub model_name: Option<String>,
    pub model_bytes: u64,
    /// The model file's modification time, in nanoseconds since the Unix epoch.
    pub model_modified_ns: u64,
    pub n_ctx: u32,
}

impl Identity {
    /// The identity of `model` (a loaded GGUF file) used with a context of `n_ctx`; `None`
    /// if the file's size and time cannot be read.
    pub fn of(model: &Path, model_name: Option<String>, n_ctx: u32) -> Option<Identity> {
        let metadata = fs::metadata(model).ok()?;
        let modified = metadata
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(Identity {
            worker: format!("sotto-lm {}", env!("CARGO_PKG_VERSION")),
            model_name,
            model_bytes: metadata.len(),
            model_modified_ns: u64::try_from(modified.as_nanos()).ok()?,
            n_ctx,
        })
    }
}

/// The sidecar's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Sidecar {
    format: u32,
    identity: Identity,
    tokens: usize,
    state_bytes: u64,
    /// [`checksum`] of the state file, in hex.
    state_checksum: String,
}

/// Why a state file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// There is none yet (the normal first run).
    Missing,
    /// It exists but is damaged or for something else; the reason, for the log.
    Mismatch(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => f.write_str("there is no cache file yet"),
            Unusable::Mismatch(reason) => f.write_str(reason),
        }
    }
}

fn mismatch(reason: impl Into<String>) -> Unusable {
    Unusable::Mismatch(reason.into())
}

/// The sidecar of the state file `path`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".meta");
    path.with_file_name(name)
}

/// Whether the state file at `path` (and its sidecar) holds the state of exactly `tokens` for
/// `identity`, without loading it.
pub fn check(path: &Path, identity: &Identity, tokens: &[LlamaToken]) -> Result<(), Unusable> {
    if held_tokens(path, identity)? != tokens {
        return Err(mismatch("it holds the state of another prompt"));
    }
    Ok(())
}

/// The tokens whose state the file at `path` holds, if it is sound (sidecar, identity, length
/// and checksum agree), without loading it. A prompt that shares a long start with them can
/// load the file and drop the rest (the planner's prompt after the date changed).
pub fn held_tokens(path: &Path, identity: &Identity) -> Result<Vec<LlamaToken>, Unusable> {
    let state = match fs::read(path) {
        Ok(state) => state,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(mismatch(format!("cannot read it: {e}"))),
    };
    let sidecar = fs::read(sidecar_path(path))
        .map_err(|e| mismatch(format!("cannot read its sidecar: {e}")))?;
    let sidecar: Sidecar = serde_json::from_slice(&sidecar)
        .map_err(|e| mismatch(format!("its sidecar is not valid: {e}")))?;
    if sidecar.format != FORMAT {
        return Err(mismatch(format!("sidecar format {}", sidecar.format)));
    }
    if &sidecar.identity != identity {
        return Err(mismatch(format!(
            "it was written for {:?}, not {identity:?}",
            sidecar.identity
        )));
    }
    if sidecar.state_bytes != state.len() as u64
        || sidecar.state_checksum != format!("{:016x}", checksum(&state))
    {
        return Err(mismatch(
            "its contents are not what its sidecar says (damaged, truncated or replaced)",
        ));
    }
    match header_tokens(&state) {
        Some(held) if held.len() == sidecar.tokens => Ok(held),
        _ => Err(mismatch(
            "its token list is not the one its sidecar counts (not a state file of this build)",
        )),
    }
}

/// Loads the state file at `path`, which [`check`] found to hold `tokens`, into `context`.
/// After an `Err` the context's KV cache may hold anything: clear it.
pub fn load(
    context: &mut LlamaContext<'_>,
    path: &Path,
    tokens: &[LlamaToken],
) -> Result<(), Unusable> {
    let loaded = context
        .state_load_file(path, tokens.len())
        .map_err(|e| mismatch(format!("llama.cpp cannot load it: {e}")))?;
    if loaded != tokens {
        // Replaced between the check and the load by another worker's file.
        return Err(mismatch("it changed while it was being loaded"));
    }
    Ok(())
}

/// Writes the context's state, which must be exactly `tokens`, to `path` (and its sidecar),
/// replacing what was there. Returns why not, for the log.
pub fn save(
    context: &LlamaContext<'_>,
    path: &Path,
    identity: &Identity,
    tokens: &[LlamaToken],
) -> Result<(), String> {
    let temporary = |suffix: &str| {
        let mut name = std::ffi::OsString::from(".");
        name.push(path.file_name().unwrap_or_default());
        name.push(format!(".{}.{suffix}", std::process::id()));
        path.with_file_name(name)
    };
    let state_temporary = temporary("tmp");
    let sidecar_temporary = temporary("meta.tmp");
    let written = (|| {
        context
            .state_save_file(&state_temporary, tokens)
            .map_err(|e| format!("llama.cpp cannot write {}: {e}", state_temporary.display()))?;
        let state = fs::read(&state_temporary)
            .map_err(|e| format!("cannot read back {}: {e}", state_temporary.display()))?;
        let sidecar = Sidecar {
            format: FORMAT,
            identity: identity.clone(),
            tokens: tokens.len(),
            state_bytes: state.len() as u64,
            state_checksum: format!("{:016x}", checksum(&state)),
        };
        let sidecar = serde_json::to_vec_pretty(&sidecar).map_err(|e| e.to_string())?;
        fs::write(&sidecar_temporary, sidecar)
            .map_err(|e| format!("cannot write {}: {e}", sidecar_temporary.display()))?;
        fs::rename(&state_temporary, path)
            .map_err(|e| format!("cannot rename it to {}: {e}", path.display()))?;
        let sidecar = sidecar_path(path);
        fs::rename(&sidecar_temporary, &sidecar)
            .map_err(|e| format!("cannot rename it to {}: {e}", sidecar.display()))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&state_temporary);
        let _ = fs::remove_file(&sidecar_temporary);
    }
    written
}

/// The token list at the start of a llama.cpp state file (magic, version, count, tokens, in
/// the writer's byte order); `None` if it is not one.
fn header_tokens(state: &[u8]) -> Option<Vec<LlamaToken>> {
    let word = |at: usize| -> Option<[u8; 4]> { state.get(at..at + 4)?.try_into().ok() };
    if u32::from_ne_bytes(word(0)?) != LLAMA_SESSION_MAGIC {
        return None;
    }
    let count = u32::from_ne_bytes(word(8)?) as usize;
    (0..count)
        .map(|i| Some(LlamaToken(i32::from_ne_bytes(word(12 + 4 * i)?))))
        .collect()
}

/// A fast 64-bit checksum (FNV-1a over 8-byte words, with a rotation so that every bit
/// spreads): it catches damaged and truncated files, not forgeries (the folder is the user's).
fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        hash = (hash ^ word).wrapping_mul(PRIME).rotate_left(29);
    }
    for &byte in words.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME).rotate_left(29);
    }
    hash ^ bytes.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            worker: "sotto-lm 0.1.0".into(),
            model_name: Some("Qwen".into()),
            model_bytes: 1000,
            model_modified_ns: 7,
            n_ctx: 2048,
        }
    }

    fn tokens(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&id| LlamaToken(id)).collect()
    }

    /// A state file as llama.cpp writes it, with `body` as the context state.
    fn state_file(ids: &[i32], body: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&LLAMA_SESSION_MAGIC.to_ne_bytes());
        bytes.extend_from_slice(&9u32.to_ne_bytes());
        bytes.extend_from_slice(&(ids.len() as u32).to_ne_bytes());
        for id in ids {
            bytes.extend_from_slice(&id.to_ne_bytes());
        }
        bytes.extend_from_slice(body);
        bytes
    }

    /// Writes a state file and its sidecar as `save` would.
    fn write(path: &Path, identity: &Identity, ids: &[i32], body: &[u8]) {
        let state = state_file(ids, body);
        let sidecar = Sidecar {
            format: FORMAT,
            identity: identity.clone(),
            tokens: ids.len(),
            state_bytes: state.len() as u64,
            state_checksum: format!("{:016x}", checksum(&state)),
        };
        fs::write(path, state).unwrap();
        fs::write(sidecar_path(path), serde_json::to_vec(&sidecar).unwrap()).unwrap();
    }

    fn check_mismatch(path: &Path, identity: &Identity, ids: &[i32], expected: &str) {
        match check(path, identity, &tokens(ids)) {
            Err(Unusable::Mismatch(reason)) => {
                assert!(
                    reason.contains(expected),
                    "{reason:?}, expected {expected:?}"
                )
            }
            other => panic!("{other:?}, expected a mismatch saying {expected:?}"),
        }
    }

    #[test]
    fn only_a_file_for_exactly_these_tokens_and_this_model_is_usable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("planner.state");
        let body = vec![0xabu8; 1001];
        assert_eq!(
            check(&path, &identity(), &tokens(&[1, 2, 3])),
            Err(Unusable::Missing)
        );
        write(&path, &identity(), &[1, 2, 3], &body);
        assert_eq!(check(&path, &identity(), &tokens(&[1, 2, 3])), Ok(()));

        check_mismatch(&path, &identity(), &[1, 2], "another prompt");
        check_mismatch(&path, &identity(), &[1, 2, 4], "another prompt");
        // What a prompt sharing its start can take from it.
        assert_eq!(held_tokens(&path, &identity()), Ok(tokens(&[1, 2, 3])));
        let other_context = Identity {
            n_ctx: 4096,
            ..identity()
        };
        check_mismatch(&path, &other_context, &[1, 2, 3], "written for");
        let other_model = Identity {
            model_modified_ns: 8,
            ..identity()
        };
        check_mismatch(&path, &other_model, &[1, 2, 3], "written for");

        // Damaged: one byte changed, cut short, garbage, no sidecar or a broken one.
        let good = fs::read(&path).unwrap();
        let mut flipped = good.clone();
        flipped[600] ^= 0x10;
        fs::write(&path, &flipped).unwrap();
        check_mismatch(&path, &identity(), &[1, 2, 3], "damaged");
        fs::write(&path, &good[..good.len() - 1]).unwrap();
        check_mismatch(&path, &identity(), &[1, 2, 3], "damaged");
        fs::write(&path, b"garbage").unwrap();
        check_mismatch(&path, &identity(), &[1, 2, 3], "damaged");
        fs::write(&path, &good).unwrap();
        assert_eq!(check(&path, &identity(), &tokens(&[1, 2, 3])), Ok(()));
        // A sidecar whose token count disagrees with the file's own list.
        let sidecar = fs::read(sidecar_path(&path)).unwrap();
        let mut miscounted: serde_json::Value = serde_json::from_slice(&sidecar).unwrap();
        miscounted["tokens"] = 2.into();
        fs::write(sidecar_path(&path), miscounted.to_string()).unwrap();
        check_mismatch(&path, &identity(), &[1, 2, 3], "token list");
        fs::write(sidecar_path(&path), &sidecar).unwrap();
        fs::write(sidecar_path(&path), b"{\"format\": 1").unwrap();
        check_mismatch(&path, &identity(), &[1, 2, 3], "sidecar is not valid");
        fs::remove_file(sidecar_path(&path)).unwrap();
        check_mismatch(&path, &identity(), &[1, 2, 3], "cannot read its sidecar");
    }

    #[test]
    fn the_header_token_list_is_read_or_refused() {
        assert_eq!(
            header_tokens(&state_file(&[5, -1, 70000], b"rest")),
            Some(tokens(&[5, -1, 70000]))
        );
        assert_eq!(header_tokens(&state_file(&[], b"")), Some(vec![]));
        let cut = state_file(&[5, 6], b"");
        assert_eq!(header_tokens(&cut[..cut.len() - 1]), None);
        assert_eq!(header_tokens(b"GGUF\0\0\0\0\0\0\0\0"), None);
        assert_eq!(header_tokens(b""), None);
    }

    #[test]
    fn the_checksum_sees_every_change_of_length_or_bit() {
        let bytes: Vec<u8> = (0..100u8).collect();
        let base = checksum(&bytes);
        assert_ne!(base, checksum(&bytes[..99]));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_ne!(base, checksum(&longer));
        for at in [0, 7, 8, 63, 96, 99] {
            for bit in [0, 3, 7] {
                let mut changed = bytes.clone();
                changed[at] ^= 1 << bit;
                assert_ne!(base, checksum(&changed), "byte {at} bit {bit}");
            }
        }
        assert_eq!(base, checksum(&bytes), "deterministic");
    }

    #[test]
    fn the_sidecar_sits_next_to_the_state_file() {
        assert_eq!(
            sidecar_path(Path::new("/cache/qwen.state")),
            Path::new("/cache/qwen.state.meta")
        );
    }
}
