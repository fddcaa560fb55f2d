//! A loaded model and its one context: prompt rendering, the kept KV-cache prefix, and the
//! constrained sampling loop.
//!
//! Shared, per-model state (weights, chat template, llguidance's token table and parser
//! factory) is built once by [`Session::new`]; per-request state (the grammar matcher, the
//! text stream, the sampler) lives only inside [`Session::generate`].

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::SimpleVob;
use llguidance::{Matcher, ParserFactory};
use sotto_protocol::lm::{Completion, Generate, Grammar, ModelInfo, Prompt, StopReason};
use sotto_protocol::{ErrorKind, WorkerFailure};

use crate::nudge::NudgeTokens;
use crate::prefix;
use crate::state_file::Identity;
use crate::text::TextStream;

mod prime;

/// Prompt tokens evaluated per `decode` call. Smaller chunks let a `Cancel` interrupt a long
/// prompt sooner; much smaller ones make prompt evaluation slower.
const PROMPT_CHUNK: usize = 128;

/// llama.cpp's `LLAMA_FLASH_ATTN_TYPE_DISABLED`.
const FLASH_ATTENTION_DISABLED: i32 = 0;

/// The one sequence this worker uses in the KV cache.
const SEQUENCE: i32 = 0;

/// Where the generation loop reports to (the process's stdout and stdin in the worker).
pub trait Listener {
    /// The next piece of the answer, ready to show.
    fn piece(&mut self, text: &str);
    /// Checked between tokens (and between prompt chunks): stop now?
    fn cancelled(&mut self) -> bool;
}

/// What `Load` asked for, before the model is known.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// 0: the model's training context.
    pub n_ctx: u32,
    /// 0: one per available core.
    pub threads: u32,
}

/// Opens a GGUF file. A missing file or one that is not GGUF at all is refused before
/// llama.cpp sees it, with a message naming the file.
pub fn load_model(backend: &LlamaBackend, path: &Path) -> Result<LlamaModel, WorkerFailure> {
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut file| {
        use std::io::Read;
        file.read_exact(&mut magic)
    });
    if let Err(e) = read {
        return Err(failure(
            ErrorKind::Model,
            format!("cannot read the model {}: {e}", path.display()),
        ));
    }
    if &magic != b"GGUF" {
        return Err(failure(
            ErrorKind::Model,
            format!(
                "{} is not a GGUF model (it starts with {:?}, not \"GGUF\")",
                path.display(),
                String::from_utf8_lossy(&magic)
            ),
        ));
    }
    LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()).map_err(|e| {
        failure(
            ErrorKind::Model,
            format!(
                "llama.cpp could not load {} ({e}); the file is damaged or of an unsupported \
                 architecture: `sotto models verify` checks it",
                path.display()
            ),
        )
    })
}

/// A model ready to generate: its context (KV cache) and grammar engine.
pub struct Session<'m> {
    model: &'m LlamaModel,
    context: LlamaContext<'m>,
    template: Option<LlamaChatTemplate>,
    grammars: ParserFactory,
    batch: LlamaBatch<'static>,
    /// Prompt tokens per `decode` (the context's batch size may be smaller than asked).
    chunk: usize,
    n_ctx: usize,
    /// The tokens whose keys and values are in the cache, in order from position 0.
    cached: Vec<LlamaToken>,
    /// The tokens each nudge applies to, found once per string.
    nudge_tokens: NudgeTokens,
    /// What a primed prompt's state file must have been written for; `None` if the model
    /// file's size and time are unknown (then no file is used).
    identity: Option<Identity>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("n_ctx", &self.n_ctx)
            .field("cached", &self.cached.len())
            .finish_non_exhaustive()
    }
}

impl<'m> Session<'m> {
    /// Creates the context and builds the grammar engine's token table (once per model: it
    /// walks the whole vocabulary). `started` is when loading began, for the reported time.
    pub fn new(
        backend: &LlamaBackend,
        model: &'m LlamaModel,
        path: &Path,
        options: LoadOptions,
        started: Instant,
    ) -> Result<(Self, ModelInfo), WorkerFailure> {
        let n_ctx_train = model.n_ctx_train();
        let n_ctx = match options.n_ctx {
            0 => n_ctx_train,
            n => n.min(n_ctx_train),
        }
        .max(16);
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            n => n,
        };
        let threads = i32::try_from(threads).unwrap_or(i32::MAX);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(PROMPT_CHUNK as u32)
            .with_n_ubatch(PROMPT_CHUNK as u32)
            .with_n_seq_max(1)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        // Flash attention off: llama.cpp's "auto" turns it on for the CPU, where it measured
        // slower here (first plan step p50 1255 -> 896 ms off, same plans, 50 development
        // requests, 3,500 cached tokens, 2 cores). The state file's format says which.
        let params = params.with_flash_attention_policy(FLASH_ATTENTION_DISABLED);
        let context = model.new_context(backend, params).map_err(|e| {
            failure(
                ErrorKind::Model,
                format!(
                    "llama.cpp could not create a context of {n_ctx} tokens for {} ({e}); \
                     try a smaller context",
                    path.display()
                ),
            )
        })?;
        let load_ms = elapsed_ms(started);

        let grammar_started = Instant::now();
        let token_table = LlamaSampler::llguidance_tok_env(model);
        let mut grammars = ParserFactory::new_simple(&token_table).map_err(|e| {
            failure(
                ErrorKind::Model,
                format!("cannot build the grammar engine for this vocabulary: {e}"),
            )
        })?;
        // Grammar warnings are reported to the caller, not printed.
        grammars.quiet();
        let grammar_setup_ms = elapsed_ms(grammar_started);

        let template = model.chat_template(None).ok();
        let name = model.meta_val_str("general.name").ok();
        let identity = Identity::of(path, name.clone(), context.n_ctx());
        let info = ModelInfo {
            model: path.to_path_buf(),
            name,
            architecture: model.meta_val_str("general.architecture").ok(),
            parameters: model.n_params(),
            size_bytes: model.size(),
            vocab_size: u32::try_from(model.n_vocab()).unwrap_or(0),
            n_ctx: context.n_ctx(),
            n_ctx_train,
            chat_template: template.is_some(),
            load_ms,
            grammar_setup_ms,
        };
        let session = Session {
            model,
            n_ctx: context.n_ctx() as usize,
            chunk: (context.n_batch() as usize).clamp(1, PROMPT_CHUNK),
            context,
            template,
            grammars,
            batch: LlamaBatch::new(PROMPT_CHUNK, 1),
            cached: Vec::new(),
            nudge_tokens: NudgeTokens::default(),
            identity,
        };
        Ok((session, info))
    }

    /// The number of tokens `prompt` takes.
    pub fn count_tokens(&self, prompt: &Prompt) -> Result<u32, WorkerFailure> {
        Ok(self.tokenize(prompt, Render::ForAnswer)?.len() as u32)
    }

    /// Refuses a prompt that leaves no room in the context for an answer.
    fn check_length(&self, prompt: &[LlamaToken]) -> Result<(), WorkerFailure> {
        if prompt.is_empty() {
            return Err(failure(ErrorKind::BadRequest, "the prompt is empty"));
        }
        if prompt.len() >= self.n_ctx {
            return Err(failure(
                ErrorKind::BadRequest,
                format!(
                    "the prompt takes {} tokens; the context holds {} (load the model with a \
                     larger n_ctx or shorten the prompt)",
                    prompt.len(),
                    self.n_ctx
                ),
            ));
        }
        Ok(())
    }

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
            prompt_ms,
            generate_ms: 0,
        };
        if prompt_cancelled {
            return Ok(completion);
        }

        let generate_started = Instant::now();
        let mut text = TextStream::new(&request.stop);
        let mut sampler = (request.temperature > 0.0).then(|| {
            LlamaSampler::chain_simple([
                LlamaSampler::temp(request.temperature),
                LlamaSampler::dist(request.seed),
            ])
        });
        let model = self.model;
        let vocab = model.vocab();
        let mut generated = 0u32;
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
            let tokens: Vec<LlamaToken> = if forced.is_empty() {
                let mask = match matcher.as_mut() {
                    Some(matcher) => Some(matcher.compute_mask_or_eos().map_err(grammar_failure)?),
                    None => None,
                };
                let nudges = self.nudge_tokens.at(
                    self.grammars.tok_env().tok_trie(),
                    &request.nudges,
                    text.text(),
                );
                let Some(token) = self.pick(logits_at, mask.as_ref(), &nudges, sampler.as_mut())
                else {
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
                vec![token]
            } else {
                forced.iter().map(|&t| LlamaToken(t as i32)).collect()
            };
            for (n, &token) in tokens.iter().enumerate() {
                generated += 1;
                let piece = text.push(&vocab.token_to_piece(token, false, None));
                if !piece.text.is_empty() {
                    listener.piece(&piece.text);
                }
                if piece.stopped {
                    break 'generation StopReason::StopString;
                }
                // The grammar's end is known without evaluating what led to it.
                if n + 1 == tokens.len() && matcher.as_ref().is_some_and(Matcher::is_stopped) {
                    break 'generation StopReason::Eos;
                }
                if generated >= request.max_tokens {
                    break 'generation StopReason::MaxTokens;
                }
            }
            if self.cached.len() + tokens.len() > self.n_ctx {
                break StopReason::ContextFull;
            }
            logits_at = self.decode_tokens(&tokens)?;
        };
        let rest = text.finish();
        if !rest.is_empty() {
            listener.piece(&rest);
        }
        completion.text = text.text().to_string();
        completion.stop = stop;
        completion.generated_tokens = generated;
        completion.generate_ms = elapsed_ms(generate_started);
        Ok(completion)
    }

    /// The prompt as the model sees it.
    fn tokenize(&self, prompt: &Prompt, render: Render) -> Result<Vec<LlamaToken>, WorkerFailure> {
        let text = match prompt {
            Prompt::Text { text } => text.clone(),
            Prompt::Chat { messages } => {
                let Some(template) = &self.template else {
                    return Err(failure(
                        ErrorKind::BadRequest,
                        "this model has no chat template; send a text prompt",
                    ));
                };
                if messages.is_empty() {
                    return Err(failure(ErrorKind::BadRequest, "the chat has no messages"));
                }
                // The rendered chat is tokenized with special tokens parsed (the template's
                // own markers must be), so a message must not contain their text: a typed
                // "<|im_end|>" would end its turn and let it speak as another role.
                let vocab = self.model.vocab();
                for (n, message) in messages.iter().enumerate() {
                    let content = message.content.as_bytes();
                    if vocab.tokenize(content, false, true) != vocab.tokenize(content, false, false)
                    {
                        return Err(failure(
                            ErrorKind::BadRequest,
                            format!(
                                "message {} contains text this model reads as a control token \
                                 (such as <|im_end|>); remove it",
                                n + 1
                            ),
                        ));
                    }
                }
                let chat = messages
                    .iter()
                    .map(|m| LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        failure(ErrorKind::BadRequest, "a message contains a NUL character")
                    })?;
                self.model
                    .apply_chat_template(template, &chat, render == Render::ForAnswer)
                    .map_err(|e| {
                        failure(
                            ErrorKind::Model,
                            format!(
                                "llama.cpp cannot apply this model's chat template ({e}); \
                                 send a text prompt rendered by the caller"
                            ),
                        )
                    })?
            }
        };
        let model = self.model;
        let vocab = model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        // A template that writes its own BOS, tokenized with the model's automatic BOS.
        let bos = vocab.bos();
        if tokens.len() >= 2 && tokens[0] == bos && tokens[1] == bos {
            tokens.remove(0);
        }
        Ok(tokens)
    }

    /// Brings the cache to `prompt`: keeps its first `keep` tokens (which must be the cached
    /// ones), evaluates the rest in chunks. Returns how many tokens were reused and whether a
    /// cancellation stopped it.
    fn evaluate(
        &mut self,
        prompt: &[LlamaToken],
        keep: usize,
        listener: &mut impl Listener,
    ) -> Result<(usize, bool), WorkerFailure> {
        debug_assert!(keep <= prefix::common(&self.cached, prompt));
        let mut reused = keep;
        let trimmed = u32::try_from(reused).ok().and_then(|from| {
            self.context
                .kv_cache_seq_rm(SEQUENCE, Some(from), None)
                .ok()
        });
        if trimmed.is_none() {
            // Some memories (recurrent models) cannot drop a tail: start over.
            self.context.clear_kv_cache();
            reused = 0;
        }
        self.cached.truncate(reused);
        for chunk in prompt[reused..].chunks(self.chunk) {
            if listener.cancelled() {
                return Ok((reused, true));
            }
            self.decode_chunk(chunk)?;
        }
        Ok((reused, false))
    }

    /// Adds generated tokens to the cache, in one batch (logits for the last only). Returns
    /// where in the batch those logits are.
    fn decode_tokens(&mut self, tokens: &[LlamaToken]) -> Result<i32, WorkerFailure> {
        let mut logits_at = 0;
        for chunk in tokens.chunks(self.chunk) {
            logits_at = chunk.len() as i32 - 1;
            self.decode_chunk(chunk)?;
        }
        Ok(logits_at)
    }

    /// Evaluates at most one batch of tokens after the cached ones (logits for the last only)
    /// and adds them to the cache.
    fn decode_chunk(&mut self, chunk: &[LlamaToken]) -> Result<(), WorkerFailure> {
        self.batch.clear();
        let start = self.cached.len();
        for (i, &token) in chunk.iter().enumerate() {
            self.batch
                .add(token, (start + i) as i32, &[SEQUENCE], i + 1 == chunk.len())
                .map_err(|e| self.forget(e))?;
        }
        self.context
            .decode(&mut self.batch)
            .map_err(|e| self.forget(e))?;
        self.cached.extend_from_slice(chunk);
        Ok(())
    }

    /// After a failed decode the cache's contents are unknown: empty it.
    fn forget(&mut self, error: impl std::fmt::Display) -> WorkerFailure {
        self.context.clear_kv_cache();
        self.cached.clear();
        failure(
            ErrorKind::Engine,
            format!("llama.cpp failed to evaluate: {error}"),
        )
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

    /// Compiles a grammar against this model's vocabulary (the token table is shared).
    fn matcher(&self, grammar: &Grammar) -> Result<Matcher, WorkerFailure> {
        let grammar = match grammar {
            Grammar::Lark(lark) => TopLevelGrammar::from_lark(lark.clone()),
            Grammar::JsonSchema(schema) => TopLevelGrammar::from_json_schema(schema.clone()),
            Grammar::Regex(regex) => TopLevelGrammar::from_regex(regex),
        };
        // llguidance reports bad grammars as errors; the unwind guard is for its bugs, so a
        // grammar can never take the worker down.
        let parser =
            std::panic::catch_unwind(AssertUnwindSafe(|| self.grammars.create_parser(grammar)))
                .map_err(|_| failure(ErrorKind::BadRequest, "the grammar crashed its compiler"))?
                .map_err(|e| {
                    failure(
                        ErrorKind::BadRequest,
                        format!("the grammar is invalid: {e}"),
                    )
                })?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(error) = matcher.get_error() {
            return Err(failure(
                ErrorKind::BadRequest,
                format!("the grammar is invalid: {error}"),
            ));
        }
        Ok(matcher)
    }
}

/// How a chat is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Render {
    /// Ending with the opening of the assistant's turn, to be answered.
    ForAnswer,
    /// Ending with the last message, as the start of a longer chat.
    AsPrefix,
}

/// Priming is not cancelled: it is short next to what it saves, and answered either way.
struct Uncancellable;

impl Listener for Uncancellable {
    fn piece(&mut self, _text: &str) {}

    fn cancelled(&mut self) -> bool {
        false
    }
}

fn check_request(request: &Generate) -> Result<(), WorkerFailure> {
    if request.max_tokens == 0 {
        return Err(failure(ErrorKind::BadRequest, "max_tokens is 0"));
    }
    if request.stop.iter().any(String::is_empty) {
        return Err(failure(ErrorKind::BadRequest, "a stop string is empty"));
    }
    if !(request.temperature.is_finite() && request.temperature >= 0.0) {
        return Err(failure(
            ErrorKind::BadRequest,
            format!("temperature {} is not a number >= 0", request.temperature),
        ));
    }
    Ok(())
}

fn grammar_failure(error: impl std::fmt::Display) -> WorkerFailure {
    failure(
        ErrorKind::Engine,
        format!("the grammar engine failed: {error}"),
    )
}

pub fn failure(kind: ErrorKind, message: impl Into<String>) -> WorkerFailure {
    WorkerFailure {
        kind,
        message: message.into(),
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}
