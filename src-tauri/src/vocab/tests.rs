use super::*;

fn sentences(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn builds_once_and_again_only_when_the_sentences_change() {
    let dir = tempfile::tempdir().unwrap();
    let first = sentences(&["call Siobhan Murphy", "open Inkscape", "open Inkscape"]);
    let built = build_at(dir.path(), &first, false).unwrap();
    assert!(built.rebuilt);
    assert_eq!((built.sentences, built.words), (3, 7));
    assert_eq!(built.ngrams.len(), ORDER);
    assert_eq!(built.bytes, std::fs::metadata(&built.path).unwrap().len());
    let model = sotto_ngram::Model::read_arpa_file(&built.path).unwrap();
    assert_eq!(model.counts(), built.ngrams);
    assert!(model.vocabulary().get("siobhan").is_some());
    let modified = std::fs::metadata(&built.path).unwrap().modified().unwrap();

    let again = build_at(dir.path(), &first, false).unwrap();
    assert!(!again.rebuilt);
    assert_eq!(again.ngrams, built.ngrams);
    assert_eq!((again.sentences, again.words), (3, 7));
    assert_eq!(
        std::fs::metadata(&again.path).unwrap().modified().unwrap(),
        modified
    );

    let forced = build_at(dir.path(), &first, true).unwrap();
    assert!(forced.rebuilt);

    let second = sentences(&["call Siobhan Murphy", "open Krita"]);
    let changed = build_at(dir.path(), &second, false).unwrap();
    assert!(changed.rebuilt);
    let model = sotto_ngram::Model::read_arpa_file(&changed.path).unwrap();
    assert!(model.vocabulary().get("krita").is_some());
    assert!(model.vocabulary().get("inkscape").is_none());
    // Only the model, its hash and the lock: no temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["build.lock", "personal.arpa", "personal.sha256"]);
}

#[test]
fn a_missing_or_damaged_model_is_rebuilt_even_with_the_same_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let text = sentences(&["open the quarterly roadmap note"]);
    let built = build_at(dir.path(), &text, false).unwrap();
    std::fs::remove_file(&built.path).unwrap();
    assert!(build_at(dir.path(), &text, false).unwrap().rebuilt);
    std::fs::write(&built.path, "not a model").unwrap();
    let again = build_at(dir.path(), &text, false).unwrap();
    assert!(again.rebuilt);
    sotto_ngram::Model::read_arpa_file(&again.path).unwrap();
}

#[test]
fn a_failed_write_leaves_whole_files_and_says_what_happened() {
    // Root ignores permissions, so writes are made to fail by folders standing where the
    // files go: the rename of the finished temporary file is refused.
    let dir = tempfile::tempdir().unwrap();
    let text = sentences(&["call Aoife"]);
    build_at(dir.path(), &text, false).unwrap();
    let hash_file = dir.path().join("personal.sha256");
    let old_hash = std::fs::read_to_string(&hash_file).unwrap();
    let model = dir.path().join("personal.arpa");
    std::fs::remove_file(&model).unwrap();
    std::fs::create_dir_all(model.join("in-the-way")).unwrap();
    let err = build_at(dir.path(), &sentences(&["call Ngozi"]), false).unwrap_err();
    assert!(
        format!("{err:#}").contains("the previous one, if any, is kept"),
        "{err:#}"
    );
    assert_eq!(std::fs::read_to_string(&hash_file).unwrap(), old_hash);
    std::fs::remove_dir_all(&model).unwrap();

    std::fs::remove_file(&hash_file).unwrap();
    std::fs::create_dir_all(hash_file.join("in-the-way")).unwrap();
    let err = build_at(dir.path(), &text, false).unwrap_err();
    assert!(format!("{err:#}").contains("rebuilt next time"), "{err:#}");
    sotto_ngram::Model::read_arpa_file(&model).unwrap();
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}

#[test]
fn nothing_to_learn_from_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = build_at(dir.path(), &sentences(&["...", "!"]), false).unwrap_err();
    assert!(err.to_string().contains("nothing to build"), "{err:#}");
    assert!(!dir.path().join("personal.arpa").exists());
}

#[test]
fn the_hash_depends_on_every_sentence_and_their_order() {
    let a = corpus_hash(&sentences(&["a", "b"]));
    assert_eq!(a, corpus_hash(&sentences(&["a", "b"])));
    assert_ne!(a, corpus_hash(&sentences(&["b", "a"])));
    assert_ne!(a, corpus_hash(&sentences(&["a b"])));
    assert_ne!(a, corpus_hash(&sentences(&["a"])));
    assert_eq!(a.len(), 64);
}

#[test]
fn the_glossary_puts_the_users_words_first_then_people_apps_and_notes() {
    let sources = Sources {
        custom: vec!["Kubernetes".into()],
        contacts: vec!["Siobhan Murphy".into()],
        apps: vec!["Inkscape".into()],
        note_titles: vec!["grocery list".into()],
        history: vec!["call Siobhan".into()],
        ..Sources::default()
    };
    assert_eq!(
        glossary(&sources),
        ["Kubernetes", "Siobhan Murphy", "Inkscape", "grocery list"]
    );
}

#[test]
fn gated_fusion_listens_for_the_glossary_and_each_word_of_a_contacts_name() {
    let sources = Sources {
        custom: vec!["Kubernetes".into(), "siobhan".into()],
        contacts: vec!["Siobhan Murphy".into(), "Cher".into()],
        apps: vec!["LibreOffice Writer".into()],
        ..Sources::default()
    };
    // App names and phrases stay whole; "siobhan" was already there (case aside).
    assert_eq!(
        spoken_names(&sources),
        [
            "Kubernetes",
            "siobhan",
            "Siobhan Murphy",
            "Cher",
            "LibreOffice Writer",
            "Murphy"
        ]
    );
}
