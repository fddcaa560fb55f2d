//! The error a tool returns; it becomes the interface's `call-error`.

use std::fmt;

use crate::bindings::sotto::plugin::types::{CallError, HostError};

/// Why a tool did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The arguments do not make sense for this call (beyond what the schema checks).
    InvalidArgs(String),
    /// A capability this call needs was not granted: its key (`notify`,
    /// `write:user-folders`, ...). Sotto tells the user how to grant it.
    CapabilityDenied(String),
    /// The request makes sense but cannot be done as asked (no such item); for the user.
    Refused(String),
    /// Something failed while doing it.
    Failed(String),
}

impl Error {
    pub fn refused(message: impl Into<String>) -> Error {
        Error::Refused(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error::Failed(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgs(m) => write!(f, "invalid arguments: {m}"),
            Error::CapabilityDenied(key) => write!(f, "the capability `{key}` was not granted"),
            Error::Refused(m) | Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<HostError> for Error {
    fn from(error: HostError) -> Error {
        match error {
            HostError::CapabilityDenied(key) => Error::CapabilityDenied(key),
            HostError::HostNotAllowed(host) => {
                Error::Refused(format!("this plugin may not reach `{host}`"))
            }
            HostError::Failed(message) => Error::Failed(message),
        }
    }
}

impl From<Error> for CallError {
    fn from(error: Error) -> CallError {
        match error {
            Error::InvalidArgs(m) => CallError::InvalidArgs(m),
            Error::CapabilityDenied(key) => CallError::CapabilityDenied(key),
            Error::Refused(m) => CallError::Refused(m),
            Error::Failed(m) => CallError::Failed(m),
        }
    }
}
