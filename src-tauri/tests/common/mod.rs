//! The fixture the app's end-to-end tests share: a private Sotto home and a private copy of
//! the cached speech models, and the real `sotto` binary run against them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sotto_e2e::test_models_dir;

pub struct Fixture {
    home: tempfile::TempDir,
    models: tempfile::TempDir,
}

impl Fixture {
    /// A private home, and a private copy of the cached tiny.en + VAD models (so importing
    /// into it does not touch the shared cache and the first-use path really runs).
    pub fn new() -> Fixture {
        let worker = Path::new(env!("CARGO_BIN_EXE_sotto")).with_file_name("sotto-asr");
        assert!(
            worker.is_file(),
            "{} is missing: build the workspace first (.ci/test does)",
            worker.display()
        );
        let models = tempfile::tempdir().unwrap();
        for id in ["whisper-tiny.en-ct2", "silero-vad-v6.2.0"] {
            let from = test_models_dir().join(id);
            assert!(
                from.is_dir(),
                "test model {id} missing in {}; run .ci/test",
                test_models_dir().display()
            );
            let to = models.path().join(id);
            std::fs::create_dir_all(&to).unwrap();
            for entry in std::fs::read_dir(&from).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name();
                // Copy only the catalog's files, not an import a previous run left in the cache.
                if !name.to_string_lossy().starts_with("ggml-model") {
                    std::fs::copy(entry.path(), to.join(name)).unwrap();
                }
            }
        }
        Fixture {
            home: tempfile::tempdir().unwrap(),
            models,
        }
    }

    /// Makes the cached planner model (Qwen2.5-Coder-0.5B) installed in this fixture's
    /// models folder, by symbolic links: 470 MB is not copied per test.
    pub fn with_planner(self) -> Fixture {
        let worker = Path::new(env!("CARGO_BIN_EXE_sotto")).with_file_name("sotto-lm");
        assert!(
            worker.is_file(),
            "{} is missing: build the workspace first (.ci/test does)",
            worker.display()
        );
        let id = "qwen2.5-coder-0.5b-instruct-q4_k_m";
        let from = test_models_dir().join(id);
        assert!(
            from.is_dir(),
            "test model {id} missing in {}; run .ci/test",
            test_models_dir().display()
        );
        let to = self.models.path().join(id);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            std::os::unix::fs::symlink(entry.path(), to.join(entry.file_name())).unwrap();
        }
        self
    }

    /// `sotto` with this fixture's home and models, ready to spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sotto"));
        command
            .env("SOTTO_HOME", self.home.path())
            .env("SOTTO_MODELS_DIR", self.models.path())
            .args(args);
        command
    }

    pub fn sotto(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn models(&self) -> &Path {
        self.models.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}
