//! One request's answer: the constrained sampling loop, with the grammar's forced text
//! fast-forwarded and, for greedy answers, prompt-lookup guesses checked in batches
//! (`crate::draft`).

use std::collections::HashMap;
use std::time::Instant;

use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use llguidance::toktrie::SimpleVob;
use llguidance::Matcher;
use sotto_protocol::lm::{Completion, Generate, StopReason};
use sotto_protocol::{ErrorKind, WorkerFailure};

use super::{
    check_request, elapsed_ms, failure, grammar_failure, Listener, Logits, Render, Session,
};
use crate::draft;
use crate::prefix;
use crate::text::TextStream;

impl Session<'_> {
    /// Runs one request: evaluates what of the prompt is not cached, then samples until the
    /// model, the grammar, a stop string, the token limit or a cancellation ends it.
    pub fn generate(
        &mut self,
        request: &Generate,
        listener: &mut impl Listener,
    ) -> Result<Completion, WorkerFailure> {
        check_request(request)?;
        let mut matcher = match &request.grammar {
            Some(grammar) => Some(self.matcher(grammar)?),
            None => None,
        };
        let prompt = self.tokenize(&request.prompt, Render::ForAnswer)?;
        self.check_length(&prompt)?;

        let prompt_started = Instant::now();
        let keep = prefix::reusable(&self.cached, &prompt);
        let (reused, prompt_cancelled) = self.evaluate(&prompt, keep, listener)?;
        let prompt_ms = elapsed_ms(prompt_started);
        let mut completion = Completion {
            id: request.id,
            text: String::new(),
            stop: StopReason::Cancelled,
            prompt_tokens: prompt.len() as u32,
            cached_prompt_tokens: reused as u32,
            generated_tokens: 0,
            guessed_tokens: 0,
            prompt_ms,
            generate_ms: 0,
        };
        if prompt_cancelled {
            return Ok(completion);
        }

        let generate_started = Instant::now();
        let mut sampler = (request.temperature > 0.0).then(|| {
            LlamaSampler::chain_simple([
                LlamaSampler::temp(request.temperature),
                LlamaSampler::dist(request.seed),
            ])
        });
        // Guessed tokens are checked against the model's own greedy choice, so only greedy
        // answers can use them; nudges depend on the text before each choice, which a
        // guess would change under them.
        let drafting = request.lookup_drafts && sampler.is_none() && request.nudges.is_empty();
        let model = self.model;
        let vocab = model.vocab();
        let mut answer = Answer {
            text: TextStream::new(&request.stop),
            generated: 0,
            max_tokens: request.max_tokens,
            guessed: 0,
            kept_guesses: 0,
        };
        let mut logits_at = self.batch.n_tokens() - 1;
        let stop = 'generation: loop {
            if listener.cancelled() {
                break StopReason::Cancelled;
            }
            // Tokens the grammar forces ("2. ", the rest of the only tool name that fits,
            // "=") need no logits: they are taken at once and evaluated in one batch, which
            // costs about what one sampled token does.
            let forced = match matcher.as_mut() {
                Some(matcher) => matcher.consume_ff_tokens(),
                None => Vec::new(),
            };
            if !forced.is_empty() {
                let tokens = llama_tokens(&forced);
                // The grammar's end is known without evaluating what led to it.
                let done = matcher.as_ref().is_some_and(Matcher::is_stopped);
                if let Some(stop) = answer.take_all(&tokens, done, listener, |t| {
                    vocab.token_to_piece(t, false, None)
                }) {
                    break 'generation stop;
                }
                if self.cached.len() + tokens.len() > self.n_ctx {
                    break StopReason::ContextFull;
                }
                logits_at = self.decode_tokens(&tokens)?;
                continue;
            }

            let mask = match matcher.as_mut() {
                Some(matcher) => Some(matcher.compute_mask_or_eos().map_err(grammar_failure)?),
                None => None,
            };
            let nudges = self.nudge_tokens.at(
                self.grammars.tok_env().tok_trie(),
                &request.nudges,
                answer.text.text(),
            );
            let Some(token) = self.pick(logits_at, mask.as_ref(), &nudges, sampler.as_mut()) else {
                return Err(failure(
                    ErrorKind::Engine,
                    "the grammar allows no token at this point of the answer",
                ));
            };
            if vocab.is_eog(token) {
                break StopReason::Eos;
            }
            if let Some(matcher) = matcher.as_mut() {
                matcher
                    .consume_token(token.0 as u32)
                    .map_err(grammar_failure)?;
            }
            let done = matcher.as_ref().is_some_and(Matcher::is_stopped);
            if let Some(stop) =
                answer.take(&vocab.token_to_piece(token, false, None), done, listener)
            {
                break stop;
            }
            if self.cached.len() + 1 > self.n_ctx {
                break StopReason::ContextFull;
            }
            let draft = if drafting {
                self.draft(token, matcher.as_mut())?
            } else {
                Vec::new()
            };
            if draft.is_empty() {
                logits_at = self.decode_tokens(&[token])?;
                continue;
            }

            // The token and the guesses after it in one batch, with logits at every
            // position; each guess is kept while it is what the model picks there.
            let batch: Vec<LlamaToken> = std::iter::once(token).chain(draft).collect();
            let start = self.cached.len();
            self.decode_chunk(&batch, Logits::All)?;
            let (kept, verdict) = self.confirm(&batch, matcher.as_mut(), &mut answer, listener)?;
            answer.guessed += batch.len() - 1;
            answer.kept_guesses += kept - 1;
            if kept < batch.len() {
                self.truncate_cache(start + kept)?;
            }
            if let Some(stop) = verdict {
                break 'generation stop;
            }
            logits_at = kept as i32 - 1;
        };
        let rest = answer.text.finish();
        if !rest.is_empty() {
            listener.piece(&rest);
        }
        if answer.guessed > 0 {
            tracing::debug!(
                guessed = answer.guessed,
                kept = answer.kept_guesses,
                generated = answer.generated,
                "prompt-lookup drafts"
            );
        }
        completion.text = answer.text.text().to_string();
        completion.stop = stop;
        completion.generated_tokens = answer.generated;
        completion.guessed_tokens = answer.kept_guesses as u32;
        completion.generate_ms = elapsed_ms(generate_started);
        Ok(completion)
    }

    /// Takes the guesses in `batch` (just evaluated, with logits at every position; its first
    /// token was chosen the ordinary way) for as long as each is the token the model picks
    /// there, greedy under the grammar, or what the grammar forces. Returns how many tokens
    /// of `batch` the answer keeps, and why it ends, if it does.
    fn confirm(
        &mut self,
        batch: &[LlamaToken],
        mut matcher: Option<&mut Matcher>,
        answer: &mut Answer,
        listener: &mut impl Listener,
    ) -> Result<(usize, Option<StopReason>), WorkerFailure> {
        let model = self.model;
        let vocab = model.vocab();
        let mut kept = 1;
        loop {
            if kept == batch.len() {
                return Ok((kept, None));
            }
            let rest = &batch[kept..];
            if let Some(matcher) = matcher.as_deref_mut() {
                let forced = matcher.compute_ff_tokens();
                if !forced.is_empty() {
                    // Forced tokens are taken as `generate` takes them, or the guesses
                    // end here.
                    let forced = llama_tokens(&forced);
                    if !rest.starts_with(&forced) {
                        return Ok((kept, None));
                    }
                    matcher.consume_ff_tokens();
                    kept += forced.len();
                    let stop = answer.take_all(&forced, matcher.is_stopped(), listener, |t| {
                        vocab.token_to_piece(t, false, None)
                    });
                    if stop.is_some() {
                        return Ok((kept, stop));
                    }
                    continue;
                }
            }
            let mask = match matcher.as_deref_mut() {
                Some(matcher) => Some(matcher.compute_mask_or_eos().map_err(grammar_failure)?),
                None => None,
            };
            let choice = self.pick(kept as i32 - 1, mask.as_ref(), &HashMap::new(), None);
            if choice != Some(rest[0]) {
                return Ok((kept, None));
            }
            let guess = rest[0];
            if let Some(matcher) = matcher.as_deref_mut() {
                matcher
                    .consume_token(guess.0 as u32)
                    .map_err(grammar_failure)?;
            }
            kept += 1;
            let done = matcher.as_deref().is_some_and(Matcher::is_stopped);
            if let Some(stop) =
                answer.take(&vocab.token_to_piece(guess, false, None), done, listener)
            {
                return Ok((kept, Some(stop)));
            }
        }
    }

    /// Guesses of the tokens after `token` (just chosen, not yet evaluated) by prompt lookup,
    /// cut to what the grammar accepts, the context holds, and before an end-of-generation
    /// token (a guess never ends the answer).
    fn draft(
        &mut self,
        token: LlamaToken,
        matcher: Option<&mut Matcher>,
    ) -> Result<Vec<LlamaToken>, WorkerFailure> {
        let room = self
            .n_ctx
            .saturating_sub(self.cached.len() + 1)
            .min(self.chunk.saturating_sub(1))
            .min(draft::MAX_DRAFT);
        if room == 0 {
            return Ok(Vec::new());
        }
        self.cached.push(token);
        let mut guess = draft::lookup(&self.cached, room);
        self.cached.pop();
        let vocab = self.model.vocab();
        if let Some(end) = guess.iter().position(|&t| vocab.is_eog(t)) {
            guess.truncate(end);
        }
        if let (Some(matcher), false) = (matcher, guess.is_empty()) {
            let ids: Vec<u32> = guess.iter().map(|t| t.0 as u32).collect();
            let valid = matcher.validate_tokens(&ids).map_err(grammar_failure)?;
            guess.truncate(valid);
        }
        Ok(guess)
    }

    /// Drops the cache after its first `len` tokens (guesses the model did not confirm).
    fn truncate_cache(&mut self, len: usize) -> Result<(), WorkerFailure> {
        if self.keep_only(len) {
            Ok(())
        } else {
            Err(self.forget("the cache cannot drop unconfirmed guesses"))
        }
    }

    /// The next token: the most likely one (or a sampled one, with a temperature) among those
    /// the grammar allows, after the nudges' adjustments.
    fn pick(
        &self,
        logits_at: i32,
        mask: Option<&SimpleVob>,
        nudges: &HashMap<u32, f32>,
        sampler: Option<&mut LlamaSampler>,
    ) -> Option<LlamaToken> {
        let logits = self.context.get_logits_ith(logits_at);
        let allowed = |token: usize| mask.is_none_or(|mask| mask.is_allowed(token as u32));
        // Most requests have no nudges: no lookup per vocabulary entry then.
        let nudged = |token: usize, logit: f32| {
            if nudges.is_empty() {
                logit
            } else {
                logit + nudges.get(&(token as u32)).copied().unwrap_or(0.0)
            }
        };
        match sampler {
            None => {
                let mut best: Option<(usize, f32)> = None;
                for (token, &logit) in logits.iter().enumerate() {
                    let logit = nudged(token, logit);
                    if allowed(token) && best.is_none_or(|(_, best)| logit > best) {
                        best = Some((token, logit));
                    }
                }
                best.map(|(token, _)| LlamaToken(token as i32))
            }
            Some(sampler) => {
                let candidates: Vec<LlamaTokenData> = logits
                    .iter()
                    .enumerate()
                    .filter(|&(token, _)| allowed(token))
                    .map(|(token, &logit)| {
                        LlamaTokenData::new(LlamaToken(token as i32), nudged(token, logit), 0.0)
                    })
                    .collect();
                if candidates.is_empty() {
                    return None;
                }
                let mut candidates = LlamaTokenDataArray::new(candidates, false);
                candidates.apply_sampler(sampler);
                candidates.selected_token()
            }
        }
    }
}

/// The answer as it grows, and the limit on its length.
struct Answer {
    text: TextStream,
    generated: u32,
    max_tokens: u32,
    /// Prompt-lookup guesses evaluated, and how many of them the model confirmed.
    guessed: usize,
    kept_guesses: usize,
}

/// llguidance's token ids as llama.cpp's.
fn llama_tokens(ids: &[u32]) -> Vec<LlamaToken> {
    ids.iter().map(|&t| LlamaToken(t as i32)).collect()
}

impl Answer {
    /// Adds `tokens` one by one (`done`: the grammar ends with the last), their text from
    /// `piece`. Returns why the answer ends, if it does within them.
    fn take_all(
        &mut self,
        tokens: &[LlamaToken],
        done: bool,
        listener: &mut impl Listener,
        piece: impl Fn(LlamaToken) -> Vec<u8>,
    ) -> Option<StopReason> {
        tokens.iter().enumerate().find_map(|(n, &token)| {
            self.take(&piece(token), done && n + 1 == tokens.len(), listener)
        })
    }

    /// Adds one token's text (`done`: the grammar ends with it). Returns why the answer
    /// ends here, if it does.
    fn take(
        &mut self,
        piece: &[u8],
        done: bool,
        listener: &mut impl Listener,
    ) -> Option<StopReason> {
        self.generated += 1;
        let piece = self.text.push(piece);
        if !piece.text.is_empty() {
            listener.piece(&piece.text);
        }
        if piece.stopped {
            Some(StopReason::StopString)
        } else if done {
            Some(StopReason::Eos)
        } else if self.generated >= self.max_tokens {
            Some(StopReason::MaxTokens)
        } else {
            None
        }
    }
}
