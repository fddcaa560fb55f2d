//! `sotto vocab` driven as a user would: the real binary, a private SOTTO_HOME and private
//! XDG data folders, the personal model read back with `sotto-ngram`.

use std::path::{Path, PathBuf};
use std::process::Output;

use sotto_ngram::{LanguageModel, Model};

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// A private home whose XDG data folders hold no applications yet.
    fn new() -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(home.xdg_home().join("applications")).unwrap();
        std::fs::create_dir_all(home.xdg_system()).unwrap();
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn xdg_home(&self) -> PathBuf {
        self.path().join("xdg-home")
    }

    fn xdg_system(&self) -> PathBuf {
        self.path().join("xdg-system")
    }

    fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_sotto"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("SOTTO_HOME", self.path())
            .env("XDG_DATA_HOME", self.xdg_home())
            .env("XDG_DATA_DIRS", self.xdg_system())
            .env("RUST_BACKTRACE", "0")
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(!err.contains("panicked"), "sotto panicked: {err}");
        output
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.path().join("config/config.toml")).unwrap_or_default()
    }

    fn write(&self, path: PathBuf, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn vocab_words_round_trip_through_config_toml() {
    let home = Home::new();
    let out = home.ok(&["vocab", "add", "Siobhan", " pull   request ", "SIOBHAN"]);
    assert!(
        out.contains("added: Siobhan") && out.contains("added: pull request"),
        "{out}"
    );
    assert!(out.contains("already there: SIOBHAN"), "{out}");
    assert!(
        home.config()
            .contains(r#"vocabulary = ["Siobhan", "pull request"]"#),
        "{}",
        home.config()
    );
    // The file keeps the commented defaults it started from.
    assert!(home.config().contains("# Words to favour in recognition"));

    let list = home.ok(&["vocab", "list"]);
    assert!(list.starts_with("Siobhan\npull request\n"), "{list}");
    assert!(
        list.contains("0 contact names, 0 apps, 0 note titles, 0 history transcripts"),
        "{list}"
    );
    let listed = home.json(&["vocab", "list", "--json"]);
    assert_eq!(
        listed["custom"],
        serde_json::json!(["Siobhan", "pull request"])
    );
    assert!(
        listed["sources"]["tool_examples"].as_u64().unwrap() > 50,
        "{listed}"
    );

    // A word that is not there: an error naming it, and nothing removed.
    let before = home.config();
    let output = home.run(&["vocab", "remove", "Siobhan", "Niamh"]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("not in the vocabulary: Niamh"), "{err}");
    assert_eq!(home.config(), before);

    let out = home.ok(&["vocab", "remove", "PULL REQUEST"]);
    assert!(out.contains("removed: pull request"), "{out}");
    assert!(
        home.config().contains(r#"vocabulary = ["Siobhan"]"#),
        "{}",
        home.config()
    );

    let output = home.run(&["vocab", "add", "  "]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("empty word"));
    assert!(home.config().contains(r#"vocabulary = ["Siobhan"]"#));
}

#[test]
fn vocab_build_learns_contacts_apps_notes_and_custom_words_and_rebuilds_only_on_change() {
    let home = Home::new();
    home.write(
        home.data().join("contacts/siobhan-murphy.vcf"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Siobhan Murphy\r\nNICKNAME:Shiv\r\nEND:VCARD\r\n",
    );
    home.write(
        home.xdg_home()
            .join("applications/org.inkscape.Inkscape.desktop"),
        "[Desktop Entry]\nType=Application\nName=Inkscape\nExec=inkscape %F\n",
    );
    home.write(
        home.xdg_system().join("applications/helper.desktop"),
        "[Desktop Entry]\nType=Application\nName=Zorglub Helper\nExec=x\nNoDisplay=true\n",
    );
    home.ok(&["vocab", "add", "Kubernetes"]);

    let listed = home.json(&["vocab", "list", "--json"]);
    assert_eq!(listed["sources"]["contacts"], 2, "{listed}");
    assert_eq!(listed["sources"]["apps"], 1, "{listed}");

    let built = home.json(&["vocab", "build", "--json"]);
    assert_eq!(built["rebuilt"], true, "{built}");
    let path = PathBuf::from(built["path"].as_str().unwrap());
    assert_eq!(path, home.data().join("vocab/personal.arpa"));
    let model = Model::read_arpa_file(&path).unwrap();
    let known = |word: &str| model.vocabulary().get(word).is_some();
    for word in [
        "siobhan",
        "murphy",
        "shiv",
        "inkscape",
        "kubernetes",
        "timer",
    ] {
        assert!(known(word), "{word} is not in the personal model");
    }
    assert!(!known("zorglub"), "a NoDisplay entry was learnt");
    assert_eq!(
        serde_json::json!(model.counts()),
        built["ngrams"],
        "{built}"
    );
    // The names are learnt in the tools' phrasings, not only alone.
    assert!(
        model.score_text("call Siobhan Murphy") > model.score_text("call Murphy Siobhan"),
        "the model does not prefer the name in order"
    );
    assert!(model.score_text("open Inkscape") > model.score_text("open ink scape"));

    let hash_file = home.data().join("vocab/personal.sha256");
    let hash = std::fs::read_to_string(&hash_file).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let again = home.json(&["vocab", "build", "--json"]);
    assert_eq!(again["rebuilt"], false, "{again}");
    assert_eq!(again["ngrams"], built["ngrams"]);
    assert_eq!(again["sentences"], built["sentences"]);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(std::fs::read_to_string(&hash_file).unwrap(), hash);

    // A new note changes the sentences: rebuilt, and the title is learnt.
    home.write(
        home.data().join("notes/kitchen-renovation.md"),
        "# Kitchen renovation\n\ntiles\n",
    );
    let third = home.json(&["vocab", "build", "--json"]);
    assert_eq!(third["rebuilt"], true, "{third}");
    assert_ne!(std::fs::read_to_string(&hash_file).unwrap(), hash);
    let model = Model::read_arpa_file(&path).unwrap();
    assert!(model.vocabulary().get("renovation").is_some());

    let text = home.ok(&["vocab", "build", "--force"]);
    assert!(text.starts_with("built: "), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    let text = home.ok(&["vocab", "build"]);
    assert!(text.starts_with("unchanged: "), "{text}");
}
