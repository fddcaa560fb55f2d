//! Fuzzes the Sphinx binary trie reader: any bytes give a model or an error, and a model that
//! was read can be scored and written out as ARPA and read back. Files of order 2 and up hold
//! at least 256 KiB of quantisation bins: run with `-max_len=1000000` to reach them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sotto_ngram::{read_sphinx_trie_bytes, LanguageModel, Model};

fuzz_target!(|data: &[u8]| {
    // Most inputs would fail the magic check; give every input a valid start.
    let mut bytes = b"Trie Language Model".to_vec();
    bytes.extend_from_slice(data);
    let Ok(model) = read_sphinx_trie_bytes(&bytes) else {
        return;
    };
    let vocabulary = model.vocabulary();
    let mut state = model.begin_sentence();
    for (id, _) in vocabulary.iter().take(16) {
        let (score, next) = model.score_word(&state, id);
        assert!(!score.is_nan());
        state = next;
    }
    let again = Model::from_arpa_str(&model.to_arpa_string()).expect("what we write reads back");
    assert_eq!(again.counts(), model.counts());
});
