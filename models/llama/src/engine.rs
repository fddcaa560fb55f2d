//! A loaded model and its one context: prompt rendering, the kept KV-cache prefix, and the
//! constrained sampling loop.
//!
//! Shared, per-model state (weights, chat template, llguidance's token table and parser
//! factory) is built once by [`Session::new`]; per-request state (the grammar matcher, the
//! text stream, the sampler) lives only inside [`Session::generate`].

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
use llama_cpp_2::token::LlamaToken;
use llguidance::api::TopLevelGrammar;
use llguidance::{Matcher, ParserFactory};
use sotto_protocol::lm::{Generate, Grammar, ModelInfo, Prompt};
use sotto_protocol::{ErrorKind, WorkerFailure};

use crate::nudge::NudgeTokens;
use crate::prefix;
use crate::state_file::Identity;

mod generate;
mod prime;

/// Prompt tokens evaluated per `decode` call. Smaller chunks let a `Cancel` interrupt a long
/// prompt sooner; much smaller ones make prompt evaluation slower.
const PROMPT_CHUNK: usize = 128;

/// llama.cpp's `LLAMA_FLASH_ATTN_TYPE_DISABLED`.
const FLASH_ATTENTION_DISABLED: i32 = 0;

/// The chunk an interruptible prime is evaluated in: a `Cancel` waits for at most one (8
/// tokens of the 0.5B model: under 0.1 s on 2 cores). Larger chunks evaluate a little faster
/// but keep a final transcript waiting longer (measured with `sotto bench e2e`: see the
/// README).
pub const INTERRUPTIBLE_CHUNK: usize = 8;

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
        self.evaluate_in(prompt, keep, self.chunk, listener)
    }

    /// [`Session::evaluate`] in chunks of at most `chunk` tokens, the cancellation checked
    /// between them.
    fn evaluate_in(
        &mut self,
        prompt: &[LlamaToken],
        keep: usize,
        chunk: usize,
        listener: &mut impl Listener,
    ) -> Result<(usize, bool), WorkerFailure> {
        debug_assert!(keep <= prefix::common(&self.cached, prompt));
        let mut reused = keep;
        if !self.keep_only(reused) {
            // Some memories (recurrent models) cannot drop a tail: start over.
            self.context.clear_kv_cache();
            self.cached.clear();
            reused = 0;
        }
        for chunk in prompt[reused..].chunks(chunk) {
            if listener.cancelled() {
                return Ok((reused, true));
            }
            self.decode_chunk(chunk, Logits::Last)?;
        }
        Ok((reused, false))
    }

    /// Drops the cache after its first `len` tokens; false (and the cache unchanged) if this
    /// memory cannot drop a tail.
    fn keep_only(&mut self, len: usize) -> bool {
        let dropped = u32::try_from(len).ok().and_then(|from| {
            self.context
                .kv_cache_seq_rm(SEQUENCE, Some(from), None)
                .ok()
        });
        if dropped.is_some() {
            self.cached.truncate(len);
        }
        dropped.is_some()
    }

    /// Adds generated tokens to the cache, in one batch (logits for the last only). Returns
    /// where in the batch those logits are.
    fn decode_tokens(&mut self, tokens: &[LlamaToken]) -> Result<i32, WorkerFailure> {
        let mut logits_at = 0;
        for chunk in tokens.chunks(self.chunk) {
            logits_at = chunk.len() as i32 - 1;
            self.decode_chunk(chunk, Logits::Last)?;
        }
        Ok(logits_at)
    }

    /// Evaluates at most one batch of tokens after the cached ones and adds them to the
    /// cache; the logits of the `i`th are then at `i` (with [`Logits::All`]).
    fn decode_chunk(&mut self, chunk: &[LlamaToken], logits: Logits) -> Result<(), WorkerFailure> {
        self.batch.clear();
        let start = self.cached.len();
        for (i, &token) in chunk.iter().enumerate() {
            let wanted = logits == Logits::All || i + 1 == chunk.len();
            self.batch
                .add(token, (start + i) as i32, &[SEQUENCE], wanted)
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

/// Which tokens of a batch get logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logits {
    Last,
    All,
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
