//! Confirmations: the user's deliberate "yes" to one exact call.
//!
//! A [`Confirmation`] has no public constructor. The only code that makes one is
//! [`InteractiveConfirmer`], which asks on a real terminal it opens itself (`/dev/tty` by
//! default) and refuses anything that is not a terminal: a transcript, piped input, a file or
//! a tool's output has no way to produce the value, so it cannot say "yes" on the user's
//! behalf. The desktop app's dialog is the other way in ([`Confirmation::given_in_window`]),
//! called only by the handler of that dialog's buttons and keys.
//! Each confirmation is bound to one call's id, tool and arguments; [`crate::authorize`]
//! refuses it for any other call.
//!
//! This module does terminal IO; the policy that decides *whether* to ask does none.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::policy::AskReason;
use crate::registry::ValidCall;

/// How a confirmation was given, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedBy {
    Terminal,
    /// A click or key press in the confirmation dialog of Sotto's own window.
    Window,
}

impl ConfirmedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmedBy::Terminal => "terminal",
            ConfirmedBy::Window => "window",
        }
    }
}

/// Proof that the user said yes to one call. Not `Clone`: one confirmation, one run.
#[derive(Debug, PartialEq, Eq)]
pub struct Confirmation {
    fingerprint: [u8; 32],
    by: ConfirmedBy,
}

impl Confirmation {
    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    pub fn by(&self) -> ConfirmedBy {
        self.by
    }

    /// The user's "yes" to exactly `request`, given in Sotto's window: the desktop shell calls
    /// this from the handler of its dialog's Allow buttons, and from nowhere else. The
    /// dialog is reached only through a question the executor asked (a per-question random
    /// id), so neither a transcript nor a tool's output can answer it; audio alone never can.
    pub fn given_in_window(request: &ConfirmationRequest) -> Confirmation {
        Confirmation {
            fingerprint: request.fingerprint,
            by: ConfirmedBy::Window,
        }
    }
}

/// What the user is asked about: the tool, its exact arguments, and why Sotto asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationRequest {
    fingerprint: [u8; 32],
    pub tool: String,
    pub description: String,
    pub risk: String,
    /// The arguments exactly as the tool will receive them, pretty-printed JSON.
    pub arguments: String,
    pub reason: String,
    /// Whether the tool's setting could stop this question: allowing the tool for good
    /// answers a first-time or every-time question, never one for sending, destroying,
    /// running commands or arguments taken from another tool's output.
    pub setting_decides: bool,
}

impl ConfirmationRequest {
    pub fn new(call: &ValidCall, reason: AskReason) -> ConfirmationRequest {
        let manifest = call.manifest();
        ConfirmationRequest {
            fingerprint: call.fingerprint(),
            tool: manifest.name.clone(),
            description: manifest.description.clone(),
            risk: manifest.risk.describe().to_string(),
            arguments: serde_json::to_string_pretty(call.args())
                .unwrap_or_else(|_| call.args().to_string()),
            reason: reason.describe(),
            setting_decides: reason.setting_decides(),
        }
    }

    /// The text shown before the question.
    pub fn prompt(&self) -> String {
        let arguments = self.arguments.replace('\n', "\n    ");
        format!(
            "Sotto wants to run {tool}: {description}\n  It {risk}; asking because {reason}.\n  Exact arguments:\n    {arguments}\n",
            tool = self.tool,
            description = self.description,
            risk = self.risk,
            reason = self.reason,
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("cannot open the terminal {path} to ask for confirmation: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a terminal; confirmations are only taken from a person at a terminal or in Sotto's window")]
    NotATerminal { path: PathBuf },
    #[error("cannot talk to the terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// Asks the person at a terminal.
#[derive(Debug)]
pub struct InteractiveConfirmer {
    reader: BufReader<File>,
    writer: File,
    by: ConfirmedBy,
}

impl InteractiveConfirmer {
    /// The process's controlling terminal. Standard input is not used: it may be a pipe.
    pub fn terminal() -> Result<InteractiveConfirmer, ConfirmError> {
        InteractiveConfirmer::terminal_at(Path::new("/dev/tty"))
    }

    /// A terminal device at `path` (a pseudo-terminal in tests, another console). Anything
    /// that is not a terminal is refused.
    pub fn terminal_at(path: &Path) -> Result<InteractiveConfirmer, ConfirmError> {
        let open_err = |source| ConfirmError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::options()
            .read(true)
            .write(true)
            .open(path)
            .map_err(open_err)?;
        if !file.is_terminal() {
            return Err(ConfirmError::NotATerminal {
                path: path.to_path_buf(),
            });
        }
        let writer = file.try_clone().map_err(open_err)?;
        Ok(InteractiveConfirmer {
            reader: BufReader::new(file),
            writer,
            by: ConfirmedBy::Terminal,
        })
    }

    /// Asks a yes/no question that is not about a tool call (installing a plugin). `yes` or
    /// `y` is yes; anything else, including end of input, is no.
    pub fn ask(&mut self, question: &str) -> Result<bool, ConfirmError> {
        write!(self.writer, "{question} [yes/no] ")?;
        self.writer.flush()?;
        let mut answer = String::new();
        self.reader.read_line(&mut answer)?;
        Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
    }

    /// Shows the request and waits for an answer. `yes` or `y` confirms; anything else
    /// (including end of input) declines, returning `None`.
    pub fn confirm(
        &mut self,
        request: &ConfirmationRequest,
    ) -> Result<Option<Confirmation>, ConfirmError> {
        write!(self.writer, "{}Allow? [yes/no] ", request.prompt())?;
        self.writer.flush()?;
        let mut answer = String::new();
        self.reader.read_line(&mut answer)?;
        let yes = matches!(answer.trim().to_lowercase().as_str(), "y" | "yes");
        Ok(yes.then_some(Confirmation {
            fingerprint: request.fingerprint,
            by: self.by,
        }))
    }
}
