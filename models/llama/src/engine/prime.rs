//! `Prime`: the planner's stable prompt put in the KV cache ahead of its requests, from the
//! state file a previous worker wrote when that holds all or the start of it.

use std::path::Path;
use std::time::Instant;

use llama_cpp_2::token::LlamaToken;
use sotto_protocol::lm::Prompt;
use sotto_protocol::WorkerFailure;

use super::{elapsed_ms, Listener, Render, Session, Uncancellable, INTERRUPTIBLE_CHUNK, SEQUENCE};
use crate::prefix;
use crate::state_file::{self, Identity, Unusable};

/// What `Prime` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Primed {
    pub tokens: u32,
    /// All of it was loaded from the cache file.
    pub from_file: bool,
    /// Tokens evaluated (the rest came from the cache or the file).
    pub evaluated: u32,
    pub ms: u64,
    /// An interruption stopped it before the end of the prompt.
    pub cancelled: bool,
}

impl Session<'_> {
    /// Leaves exactly `prompt` (a chat without the assistant's opening) in the cache, loaded
    /// from `cache_file` if that holds it, or its start from the file and the rest evaluated,
    /// else evaluated (and then, unless the file held all of it, written to `cache_file`).
    /// A file that cannot be used or written is logged, never a failure.
    ///
    /// With an `interrupt`, the prompt is evaluated in [`INTERRUPTIBLE_CHUNK`]s and stops
    /// between two when it says so: the cache then holds the start evaluated so far, and
    /// nothing is written to `cache_file`.
    pub fn prime(
        &mut self,
        prompt: &Prompt,
        cache_file: Option<&Path>,
        interrupt: Option<&mut impl Listener>,
    ) -> Result<Primed, WorkerFailure> {
        let started = Instant::now();
        let tokens = self.tokenize(prompt, Render::AsPrefix)?;
        self.check_length(&tokens)?;
        let cache_file = cache_file.and_then(|path| match &self.identity {
            Some(identity) => Some((path, identity.clone())),
            None => {
                tracing::warn!(
                    path = %path.display(),
                    "the model file's size and time are unknown: the prompt cache file is not used"
                );
                None
            }
        });
        let mut from_file = false;
        // Whether the file is known not to hold this prompt (then it is rewritten unchecked).
        let mut file_unusable = false;
        let already_cached = prefix::common(&self.cached, &tokens) == tokens.len();
        if let (Some((path, identity)), false) = (&cache_file, already_cached) {
            match self.load_file_prefix(path, identity, &tokens) {
                Ok(loaded) => {
                    from_file = loaded == tokens.len();
                    file_unusable = !from_file;
                }
                Err(unusable) => {
                    file_unusable = true;
                    if unusable != Unusable::Missing {
                        tracing::warn!(
                            path = %path.display(),
                            "the prompt cache file is not used, it is rewritten: {unusable}"
                        );
                    }
                }
            }
        }
        let mut evaluated = 0;
        let mut cancelled = false;
        if !from_file {
            let keep = prefix::common(&self.cached, &tokens);
            let (reused, stopped) = match interrupt {
                Some(interrupt) => {
                    self.evaluate_in(&tokens, keep, INTERRUPTIBLE_CHUNK, interrupt)?
                }
                None => self.evaluate(&tokens, keep, &mut Uncancellable)?,
            };
            cancelled = stopped;
            evaluated = self.cached.len().saturating_sub(reused);
            if let (Some((path, identity)), false) = (&cache_file, cancelled) {
                if file_unusable || state_file::check(path, identity, &tokens).is_err() {
                    if let Err(reason) = state_file::save(&self.context, path, identity, &tokens) {
                        tracing::warn!(
                            path = %path.display(),
                            "the prompt cache file cannot be written: {reason}"
                        );
                    }
                }
            }
        }
        Ok(Primed {
            tokens: tokens.len() as u32,
            from_file,
            evaluated: evaluated as u32,
            ms: elapsed_ms(started),
            cancelled,
        })
    }

    /// Loads from the state file at `path` as much of `tokens` as it holds, when that is more
    /// than the cache already has and at least half of them: the planner's prompt changes
    /// only at its end from one day to the next (the date), so yesterday's file saves most
    /// of the evaluation. Returns how many tokens the cache now holds from the file.
    fn load_file_prefix(
        &mut self,
        path: &Path,
        identity: &Identity,
        tokens: &[LlamaToken],
    ) -> Result<usize, Unusable> {
        let held = state_file::held_tokens(path, identity)?;
        let common = prefix::common(&held, tokens);
        if common * 2 < tokens.len() || common <= prefix::common(&self.cached, tokens) {
            return Err(Unusable::Mismatch(format!(
                "it holds the state of another prompt ({common} of {} tokens in common)",
                tokens.len()
            )));
        }
        let loaded = state_file::load(&mut self.context, path, &held).and_then(|()| {
            if common < held.len() {
                // Positions from `common` on belong to the other prompt.
                let dropped = self.context.clear_kv_cache_seq(
                    Some(SEQUENCE as u32),
                    Some(common as u32),
                    None,
                );
                if !matches!(dropped, Ok(true)) {
                    return Err(Unusable::Mismatch(format!(
                        "llama.cpp cannot drop its last {} tokens",
                        held.len() - common
                    )));
                }
            }
            Ok(())
        });
        match loaded {
            Ok(()) => {
                self.cached = held[..common].to_vec();
                Ok(common)
            }
            Err(unusable) => {
                // llama.cpp may have read part of it into the cache.
                self.context.clear_kv_cache();
                self.cached.clear();
                Err(unusable)
            }
        }
    }
}
