//! Fuzzes the ARPA reader: any bytes give a model or an error, and a model that was read can
//! be scored and written out and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sotto_ngram::{read_arpa_bytes, LanguageModel, Model};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = read_arpa_bytes(data) else {
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
