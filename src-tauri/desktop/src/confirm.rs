//! Confirmations in the window: the executor's question becomes a dialog, the user's click
//! or key press becomes the answer.
//!
//! Each question gets a fresh random id, sent only to the window; an answer must name it.
//! Unanswered questions time out to Deny, and a question whose request is cancelled is
//! closed as Deny too. Only the window's `confirm_answer` command reaches [`Confirmations::
//! answer`]: nothing a transcript or a tool returns can, so a spoken "yes" never confirms.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use sotto_executor::{ConfirmFailure, Confirmer};
use sotto_tools::{Confirmation, ConfirmationRequest};
use sotto_window_api::{ConfirmAnswer, ConfirmClosed, ConfirmPrompt, ConfirmReply};
use tokio::sync::oneshot;

use crate::ui::Ui;

/// How long a question waits before it counts as Deny.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

struct Pending {
    /// When it was opened, in order: ids are random, so they cannot say which came first.
    opened: u64,
    prompt: ConfirmPrompt,
    answer: oneshot::Sender<ConfirmAnswer>,
}

/// The questions open now, by id.
#[derive(Default)]
pub struct Confirmations {
    open: Mutex<HashMap<String, Pending>>,
    opened: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Confirmations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmations")
            .field("pending", &self.pending())
            .finish()
    }
}

impl Confirmations {
    /// The questions waiting, oldest first (for a window that opens while they wait).
    pub fn pending(&self) -> Vec<ConfirmPrompt> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut pending: Vec<&Pending> = open.values().collect();
        pending.sort_by_key(|p| p.opened);
        pending.iter().map(|p| p.prompt.clone()).collect()
    }

    /// The user's answer from the window. An unknown or already closed id is an error the
    /// window can show ("that question has expired").
    pub fn answer(&self, reply: &ConfirmReply) -> Result<(), String> {
        let pending = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&reply.id);
        match pending {
            Some(pending) => pending
                .answer
                .send(reply.answer)
                .map_err(|_| "that question was withdrawn (its request stopped)".to_string()),
            None => Err("that question is no longer open (it was answered or timed out)".into()),
        }
    }

    fn open(&self, prompt: ConfirmPrompt) -> oneshot::Receiver<ConfirmAnswer> {
        let (answer, receiver) = oneshot::channel();
        let opened = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.open.lock().unwrap_or_else(|e| e.into_inner()).insert(
            prompt.id.clone(),
            Pending {
                opened,
                prompt,
                answer,
            },
        );
        receiver
    }

    fn close(&self, id: &str) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// What to do when the user says "Always for this tool" (remember it in the store).
pub type RememberAlways = Arc<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>;

/// The executor's [`Confirmer`] for requests from the desktop.
pub struct WindowConfirmer {
    pub confirmations: Arc<Confirmations>,
    pub ui: Arc<dyn Ui>,
    pub timeout: Duration,
    pub remember_always: RememberAlways,
}

impl std::fmt::Debug for WindowConfirmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowConfirmer")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A question's id: 128 random bits, so a page cannot guess one it was not sent.
fn fresh_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness from the OS is not worth failing a request over: time and a
        // counter still make ids unique, and the window is the only one told them.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes[..8].copy_from_slice(&(t as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&n.to_le_bytes());
    }
    hex::encode(bytes)
}

/// Closes the question when dropped, so a cancelled request (its future dropped) leaves no
/// dialog behind.
struct CloseOnDrop<'a> {
    confirmations: &'a Confirmations,
    ui: &'a dyn Ui,
    id: String,
    answer: Option<ConfirmAnswer>,
}

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.confirmations.close(&self.id);
        self.ui.confirm_closed(&ConfirmClosed {
            id: self.id.clone(),
            answer: self.answer,
        });
    }
}

impl Confirmer for WindowConfirmer {
    fn confirm<'a>(
        &'a self,
        request: &'a ConfirmationRequest,
    ) -> BoxFuture<'a, Result<Option<Confirmation>, ConfirmFailure>> {
        Box::pin(async move {
            let prompt = ConfirmPrompt {
                id: fresh_id(),
                tool: request.tool.clone(),
                description: request.description.clone(),
                risk: request.risk.clone(),
                arguments: request.arguments.clone(),
                reason: request.reason.clone(),
                can_always: request.setting_decides,
                timeout_secs: self.timeout.as_secs() as u32,
            };
            let receiver = self.confirmations.open(prompt.clone());
            let mut guard = CloseOnDrop {
                confirmations: &self.confirmations,
                ui: self.ui.as_ref(),
                id: prompt.id.clone(),
                answer: None,
            };
            self.ui.confirm(&prompt);
            let answer = match tokio::time::timeout(self.timeout, receiver).await {
                Ok(Ok(answer)) => answer,
                // Timed out, or the sender went away: both are a no.
                _ => {
                    tracing::info!("confirmation for {} timed out: denied", request.tool);
                    return Ok(None);
                }
            };
            guard.answer = Some(answer);
            Ok(match answer {
                ConfirmAnswer::Deny => None,
                ConfirmAnswer::AllowOnce => Some(Confirmation::given_in_window(request)),
                ConfirmAnswer::AlwaysForTool => {
                    // Where no setting decides, "always" cannot be remembered: it is a yes
                    // to this call only.
                    if request.setting_decides {
                        (self.remember_always)(request.tool.clone()).await;
                    }
                    Some(Confirmation::given_in_window(request))
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_long() {
        let (a, b) = (fresh_id(), fresh_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn pending_questions_come_oldest_first() {
        let confirmations = Confirmations::default();
        let prompt = |id: &str| ConfirmPrompt {
            id: id.into(),
            tool: "t".into(),
            description: String::new(),
            risk: String::new(),
            arguments: "{}".into(),
            reason: String::new(),
            can_always: false,
            timeout_secs: 60,
        };
        // Ids sort the other way round from the order they were opened in.
        let _first = confirmations.open(prompt("ffff"));
        let _second = confirmations.open(prompt("0000"));
        let ids: Vec<String> = confirmations.pending().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, ["ffff", "0000"]);
    }

    #[test]
    fn an_unknown_id_is_refused() {
        let confirmations = Confirmations::default();
        let reply = ConfirmReply {
            id: "nope".into(),
            answer: ConfirmAnswer::AllowOnce,
        };
        assert!(confirmations.answer(&reply).is_err());
    }
}
