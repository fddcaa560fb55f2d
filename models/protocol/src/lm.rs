//! Messages between the app and `sotto-lm`, the language-model worker. Since version 2
//! (`Prime` and `Primed` since version 3; an interruptible `Prime` since version 4).
//!
//! One `Generate` at a time: its answer is a stream of [`LmResponse::Token`]s followed by one
//! [`LmResponse::Done`] (or one [`LmResponse::Failed`]). The concatenated token texts are
//! exactly the `Done` text: text that might be the start of a stop string is held back until
//! it is known not to be one, and a stop string itself is never sent.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::WorkerFailure;

/// App -> `sotto-lm`. Since version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LmRequest {
    /// Load (or switch to) a GGUF model. Answered with `Loaded` or `Failed`.
    Load {
        model: PathBuf,
        /// Context size in tokens (prompt + answer); 0 means the model's training context.
        /// Capped at the training context.
        n_ctx: u32,
        threads: u32,
    },
    /// Generate an answer. Answered with `Token`s, then `Done` (or `Failed`).
    Generate(Generate),
    /// Stop the generation with this id as soon as possible; its `Done` says `cancelled`.
    /// Has no answer of its own, and is ignored when that generation is not running (it may
    /// just have finished).
    Cancel { id: u64 },
    /// Count the tokens a prompt takes, as `Generate` would evaluate it. Answered with
    /// `TokenCount`.
    CountTokens { id: u64, prompt: Prompt },
    /// Puts `prompt` in the KV cache as the kept prefix for the next `Generate`, whose prompt
    /// should start with it (then only the rest is evaluated). Answered with `Primed` (or
    /// `Failed`). Since version 3.
    ///
    /// A `Prompt::Chat` is rendered without the opening of the assistant's turn, so that it
    /// is a prefix of the same messages followed by a new user message: prime with the system
    /// prompt and the worked examples, generate with those and the request.
    ///
    /// With `cache_file`, the evaluated state is also kept on disk: if the file holds the
    /// state of exactly these tokens for this model and context size, it is loaded instead of
    /// evaluating (much faster for a long prompt in a new worker process); otherwise the
    /// prompt is evaluated and the file (re)written, atomically. A missing, damaged or
    /// mismatched file, or a folder that cannot be written, is not a failure (the worker logs
    /// a warning). Name the file per model; the caller owns its folder.
    ///
    /// An `interruptible` prime (since version 4) is speculative work, such as a partial
    /// transcript primed while the person still speaks: it is evaluated in small chunks, and
    /// a `Cancel` with its id stops it between two of them. Its `Primed` then says
    /// `cancelled`, and the cache keeps what was evaluated (the start of the prompt).
    Prime {
        id: u64,
        prompt: Prompt,
        #[serde(default)]
        cache_file: Option<PathBuf>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        interruptible: bool,
    },
    /// Finish the current request, then exit.
    Shutdown,
}

/// One generation request. Since version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generate {
    pub id: u64,
    pub prompt: Prompt,
    /// Constrains the answer; `None` for free text.
    #[serde(default)]
    pub grammar: Option<Grammar>,
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// Generation ends before the first of these strings; it is not part of the answer.
    #[serde(default)]
    pub stop: Vec<String>,
    /// 0 (the default) is greedy decoding: the same prompt always gives the same answer.
    #[serde(default)]
    pub temperature: f32,
    /// Seeds the sampler when `temperature` > 0.
    #[serde(default)]
    pub seed: u32,
    /// Adjustments to the model's preferences at decision points of the answer. Since
    /// version 3 (older workers ignore them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nudges: Vec<Nudge>,
    /// Greedy answers without nudges: guess the next few tokens from what followed the latest
    /// ones earlier in the prompt or answer (prompt lookup), and evaluate the guesses in one
    /// batch, keeping each only where the model would have chosen it. The answer is the same
    /// token for token; it takes fewer model runs. `false` is the baseline for measuring it.
    /// Workers before it ignore it (and never guess).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub lookup_drafts: bool,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// Where the answer so far ends with `after`, every token that starts writing `text` (a
/// token whose text is a prefix of it, or begins with it) gets `logit` added before the
/// choice. For calibrating a small model's choices between grammar alternatives ("another
/// step" against "the end"), not for steering free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nudge {
    pub after: String,
    pub text: String,
    pub logit: f32,
}

/// What the model is asked. Since version 2.
///
/// The worker keeps the KV cache of the longest token prefix a prompt shares with the
/// previous one, so callers should keep what is stable (system prompt, tool list, examples)
/// at the start and byte-identical between requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prompt {
    /// Rendered with the model's own chat template, ending with the opening of the
    /// assistant's turn. Fails with `BadRequest` if the model has no template, or if a
    /// message contains text the model reads as a control token (`<|im_end|>`): a message
    /// cannot close its turn and speak as another role.
    Chat { messages: Vec<ChatMessage> },
    /// Used as it is (special tokens such as `<|im_start|>` in it are parsed as such): for
    /// base models and callers that render their own template.
    Text { text: String },
}

/// Since version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Since version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// A constraint on the answer, enforced token by token (llguidance): the model cannot produce
/// text outside it. Since version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grammar {
    /// llguidance's Lark dialect (<https://github.com/guidance-ai/llguidance/blob/main/docs/syntax.md>),
    /// starting at the rule `start`.
    Lark(String),
    /// A JSON Schema the answer must be an instance of.
    JsonSchema(serde_json::Value),
    /// A regular expression (Rust `regex` syntax) the whole answer must match.
    Regex(String),
}

/// `sotto-lm` -> app. Since version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LmResponse {
    Loaded(ModelInfo),
    /// The next piece of the answer, as soon as it is known (whole UTF-8 characters only).
    Token {
        id: u64,
        text: String,
    },
    Done(Completion),
    TokenCount {
        id: u64,
        tokens: u32,
    },
    /// The answer to `Prime`: the cache holds these `tokens`. Since version 3.
    Primed {
        id: u64,
        tokens: u32,
        /// Loaded from the request's `cache_file` rather than evaluated.
        from_file: bool,
        /// Tokens evaluated; the rest were already in the cache or came from `cache_file`
        /// (which can give the start of a prompt that changed at its end). Since version 3,
        /// absent before.
        #[serde(default)]
        evaluated: u32,
        /// Loading or evaluating (and writing the file).
        ms: u64,
        /// An interruptible prime stopped by a `Cancel` before the end of its prompt: the
        /// cache holds only its start (what it held before, then the `evaluated` tokens).
        /// Since version 4.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cancelled: bool,
    },
    Failed {
        id: Option<u64>,
        failure: WorkerFailure,
    },
}

/// What was loaded. Since version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub model: PathBuf,
    /// The GGUF's `general.name`, if it has one.
    pub name: Option<String>,
    pub architecture: Option<String>,
    pub parameters: u64,
    pub size_bytes: u64,
    pub vocab_size: u32,
    /// The context size actually in use.
    pub n_ctx: u32,
    pub n_ctx_train: u32,
    /// Whether the GGUF carries a chat template (needed for `Prompt::Chat`).
    pub chat_template: bool,
    /// Loading the weights and creating the context.
    pub load_ms: u64,
    /// Building the grammar engine's token table, once per model.
    pub grammar_setup_ms: u64,
}

/// The end of one generation. Since version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub id: u64,
    /// The whole answer: the concatenation of the `Token` texts, without the stop string.
    pub text: String,
    pub stop: StopReason,
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Of those, how many were already in the KV cache from the previous request.
    pub cached_prompt_tokens: u32,
    pub generated_tokens: u32,
    /// Of those, how many were prompt-lookup guesses the model confirmed (evaluated in a
    /// batch with the token before them rather than by a run of their own).
    #[serde(default)]
    pub guessed_tokens: u32,
    /// Evaluating the uncached part of the prompt.
    pub prompt_ms: u64,
    /// From the first sampled token to the end.
    pub generate_ms: u64,
}

/// Why a generation ended. Since version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its answer (or the grammar allowed nothing more).
    Eos,
    /// One of the request's stop strings appeared.
    StopString,
    /// `max_tokens` were generated.
    MaxTokens,
    /// A `Cancel` arrived.
    Cancelled,
    /// The context is full.
    ContextFull,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_is_on_the_wire_as_documented() {
        let prime = LmRequest::Prime {
            id: 4,
            prompt: Prompt::Text { text: "abc".into() },
            cache_file: Some("/cache/qwen.state".into()),
            interruptible: false,
        };
        let line = serde_json::to_string(&prime).unwrap();
        assert_eq!(
            line,
            r#"{"type":"prime","id":4,"prompt":{"kind":"text","text":"abc"},"cache_file":"/cache/qwen.state"}"#
        );
        assert_eq!(serde_json::from_str::<LmRequest>(&line).unwrap(), prime);
        // The cache file may be left out.
        let without: LmRequest =
            serde_json::from_str(r#"{"type":"prime","id":5,"prompt":{"kind":"text","text":"x"}}"#)
                .unwrap();
        assert!(matches!(
            without,
            LmRequest::Prime {
                id: 5,
                cache_file: None,
                ..
            }
        ));

        let primed = LmResponse::Primed {
            id: 4,
            tokens: 2100,
            from_file: false,
            evaluated: 30,
            ms: 40,
            cancelled: false,
        };
        let line = serde_json::to_string(&primed).unwrap();
        assert_eq!(
            line,
            r#"{"type":"primed","id":4,"tokens":2100,"from_file":false,"evaluated":30,"ms":40}"#
        );
        assert_eq!(serde_json::from_str::<LmResponse>(&line).unwrap(), primed);
        // From a worker of before `evaluated`.
        let older: LmResponse = serde_json::from_str(
            r#"{"type":"primed","id":4,"tokens":2100,"from_file":true,"ms":40}"#,
        )
        .unwrap();
        assert!(matches!(older, LmResponse::Primed { evaluated: 0, .. }));

        // Version 4: an interruptible prime, and one that was cancelled.
        let speculative = LmRequest::Prime {
            id: 6,
            prompt: Prompt::Text { text: "abc".into() },
            cache_file: None,
            interruptible: true,
        };
        let line = serde_json::to_string(&speculative).unwrap();
        assert_eq!(
            line,
            r#"{"type":"prime","id":6,"prompt":{"kind":"text","text":"abc"},"cache_file":null,"interruptible":true}"#
        );
        assert_eq!(
            serde_json::from_str::<LmRequest>(&line).unwrap(),
            speculative
        );
        let stopped: LmResponse = serde_json::from_str(
            r#"{"type":"primed","id":6,"tokens":40,"from_file":false,"evaluated":16,"ms":90,"cancelled":true}"#,
        )
        .unwrap();
        assert!(matches!(
            stopped,
            LmResponse::Primed {
                cancelled: true,
                evaluated: 16,
                ..
            }
        ));
    }
}
