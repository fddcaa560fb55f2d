//! whisper.cpp lets a caller change the logits of every decoding step through a C callback
//! (`logits_filter_callback`), which whisper-rs exposes only as raw, unsafe setters. This
//! crate wraps it: [`full_with_filter`] runs `WhisperState::full` with a Rust closure as the
//! filter. It is its own crate because the rest of the workspace forbids unsafe code.
//!
//! whisper.cpp calls the filter after its own suppression rules and before its log-softmax,
//! so whatever the closure adds is renormalised over the vocabulary.

use std::ffi::c_void;
use std::os::raw::c_int;

use whisper_rs::{
    FullParams, WhisperError, WhisperState, WhisperSysContext, WhisperSysState, WhisperTokenData,
};

/// The filter: the decoder's tokens so far (its prompt excluded) and the logits of the next
/// token, one per vocabulary entry, to change in place.
pub type Filter<'f> = &'f dyn Fn(&[WhisperTokenData], &mut [f32]);

struct Installed<'f> {
    filter: Filter<'f>,
    n_vocab: usize,
}

unsafe extern "C" fn call_filter(
    _ctx: *mut WhisperSysContext,
    _state: *mut WhisperSysState,
    tokens: *const WhisperTokenData,
    n_tokens: c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    if user_data.is_null() || logits.is_null() {
        return;
    }
    // SAFETY: `user_data` is the `Installed` that `full_with_filter` keeps on its stack for
    // the whole `full` call, the only time whisper.cpp calls this; whisper.cpp passes its
    // decoder's `n_tokens` tokens and a row of `n_vocab` logits it owns for the call.
    let installed = unsafe { &*(user_data as *const Installed<'_>) };
    let tokens = match usize::try_from(n_tokens) {
        Ok(n) if n > 0 && !tokens.is_null() => unsafe { std::slice::from_raw_parts(tokens, n) },
        _ => &[],
    };
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, installed.n_vocab) };
    // A panic must not unwind into C; a filter that panics changes nothing more.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (installed.filter)(tokens, logits)
    }));
}

/// `state.full(params, samples)` with `filter` applied to every decoding step's logits.
pub fn full_with_filter(
    state: &mut WhisperState,
    mut params: FullParams<'_, '_>,
    samples: &[f32],
    filter: Filter<'_>,
) -> Result<(), WhisperError> {
    let n_vocab = usize::try_from(state.n_vocab()).unwrap_or(0);
    let installed = Installed { filter, n_vocab };
    // SAFETY: the callback only reads `installed`, which outlives the `full` call below
    // (whisper.cpp keeps no pointer to it afterwards: the parameters are consumed by `full`).
    unsafe {
        params.set_filter_logits_callback(Some(call_filter));
        params.set_filter_logits_callback_user_data(
            &installed as *const Installed<'_> as *mut c_void,
        );
    }
    state.full(params, samples)
}
