//! The local language model as tools see it: text in, text out. The app implements
//! [`TextModel`] over its LM worker; tools get it only through their [`crate::ToolContext`],
//! and only when they declare [`crate::Capability::LanguageModel`].

use std::fmt;

use futures_util::future::BoxFuture;

/// One request for text: what to do (the instruction, given as the system message) and the
/// material to do it on (data, given as the user message, never read as instructions by Sotto).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRequest {
    pub instruction: String,
    pub input: String,
    /// The most tokens the answer may take.
    pub max_tokens: u32,
}

/// Why the model gave no text; the message is for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TextModelError(pub String);

/// A language model on this machine.
pub trait TextModel: Send + Sync + fmt::Debug {
    /// Answers `request` (greedy decoding: the same request gives the same text).
    fn complete(&self, request: TextRequest) -> BoxFuture<'_, Result<String, TextModelError>>;

    /// How many characters of input the model can take in one request, after the instruction
    /// and room for the answer; callers cut longer material and say so.
    fn input_budget_chars(&self) -> usize;
}
