use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |key| map.get(key).cloned()
}

#[test]
fn sotto_home_puts_everything_under_one_folder() {
    let settings = Settings::load_with(env_of(&[("SOTTO_HOME", "/tmp/sotto-test-home")])).unwrap();
    let home = Path::new("/tmp/sotto-test-home");
    assert_eq!(settings.dirs.config, home.join("config"));
    assert_eq!(settings.config_file, home.join("config/config.toml"));
    assert_eq!(settings.database, home.join("data/sotto.db"));
    assert_eq!(settings.models_dir, home.join("data/models"));
    assert_eq!(settings.recordings_dir, home.join("data/recordings"));
    assert_eq!(settings.downloads_dir, home.join("cache/downloads"));
    assert_eq!(settings.config, Config::default());
}

#[test]
fn specific_variables_beat_sotto_home_and_empty_ones_are_ignored() {
    let settings = Settings::load_with(env_of(&[
        ("SOTTO_HOME", "/h"),
        ("SOTTO_CACHE_DIR", "/c"),
        ("SOTTO_MODELS_DIR", "/m"),
        ("SOTTO_DATA_DIR", ""),
    ]))
    .unwrap();
    assert_eq!(settings.dirs.cache, PathBuf::from("/c"));
    assert_eq!(settings.dirs.data, PathBuf::from("/h/data"));
    assert_eq!(settings.models_dir, PathBuf::from("/m"));
}

#[test]
fn without_overrides_platform_directories_are_used() {
    let dirs = BaseDirs::from_env(env_of(&[])).unwrap();
    let platform = directories::ProjectDirs::from("", "", "sotto").unwrap();
    assert_eq!(dirs.config, platform.config_dir());
    assert_eq!(dirs.data, platform.data_dir());
    assert_eq!(dirs.cache, platform.cache_dir());
}

#[test]
fn the_shipped_default_config_parses_to_the_defaults() {
    let parsed = Config::parse(DEFAULT_CONFIG_TOML, Path::new("default-config.toml")).unwrap();
    assert_eq!(parsed, Config::default());
}

#[test]
fn config_paths_are_relative_to_the_config_file_and_env_still_wins() {
    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        "[paths]\ndatabase = \"db/history.db\"\nmodels = \"/opt/models\"\n",
    )
    .unwrap();
    let home_str = home.path().to_str().unwrap();
    let settings = Settings::load_with(env_of(&[("SOTTO_HOME", home_str)])).unwrap();
    assert_eq!(settings.database, config_dir.join("db/history.db"));
    assert_eq!(settings.models_dir, PathBuf::from("/opt/models"));

    let settings = Settings::load_with(env_of(&[
        ("SOTTO_HOME", home_str),
        ("SOTTO_MODELS_DIR", "/env"),
    ]))
    .unwrap();
    assert_eq!(settings.models_dir, PathBuf::from("/env"));
}

fn parse_error(text: &str) -> String {
    Config::parse(text, Path::new("/x/config.toml"))
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_configs_are_rejected_with_the_file_and_the_reason() {
    let cases: &[(&str, &str)] = &[
        ("[modles]\n", "unknown field `modles`"),
        ("[models]\nauto_fetch = \"yes\"\n", "invalid type"),
        ("[speech]\nlanguage = \"english\"\n", "two-letter ISO 639-1"),
        (
            "[speech]\nhangover_ms = 50\n",
            "hangover_ms must be between",
        ),
        (
            "[models]\npypi_index = \"ftp://x\"\n",
            "models.pypi_index must be an http(s) URL",
        ),
        ("[models]\nstall_timeout_secs = 0\n", "at least 1"),
        (
            "[speech.fusion]\nalpha = -0.1\n",
            "speech.fusion.alpha must be a number of at least 0",
        ),
        (
            "[speech.fusion]\nalpha = nan\n",
            "speech.fusion.alpha must be a number of at least 0",
        ),
        (
            "[speech.fusion]\nbeta = inf\n",
            "speech.fusion.beta must be a finite number",
        ),
        (
            "[speech.fusion]\nbeam_size = 0\n",
            "speech.fusion.beam_size must be between 1 and 8",
        ),
        (
            "[speech.fusion]\nbeam_size = 9\n",
            "speech.fusion.beam_size must be between 1 and 8",
        ),
        (
            "[speech.fusion]\nbase_weight = 1.5\n",
            "speech.fusion.base_weight must be between 0 and 1",
        ),
        (
            "[speech.fusion]\nname_match = -0.1\n",
            "speech.fusion.name_match must be between 0 and 1",
        ),
        ("[speech.fusion]\nalfa = 1\n", "unknown field `alfa`"),
        ("this is not toml", "/x/config.toml"),
    ];
    for (text, expected) in cases {
        let message = parse_error(text);
        assert!(
            message.contains(expected),
            "{text:?}: {message:?} lacks {expected:?}"
        );
        assert!(
            message.contains("/x/config.toml"),
            "{message:?} does not name the file"
        );
    }
}

#[test]
fn partial_config_keeps_other_defaults() {
    let config = Config::parse("[speech]\nlanguage = \"de\"\n", Path::new("c.toml")).unwrap();
    assert_eq!(config.speech.language, "de");
    assert_eq!(config.models, ModelsConfig::default());
}

#[test]
fn write_default_config_refuses_to_clobber() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/config.toml");
    write_default_config(&path, false).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_CONFIG_TOML);
    std::fs::write(&path, "[speech]\nlanguage = \"fr\"\n").unwrap();
    let err = write_default_config(&path, false).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    write_default_config(&path, true).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_CONFIG_TOML);
}

#[test]
fn unreadable_config_is_an_error_not_defaults() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: reading fails with something other than NotFound.
    std::fs::create_dir_all(dir.path().join("config.toml")).unwrap();
    let err = Config::load(&dir.path().join("config.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
}

#[test]
fn save_changes_only_what_changed_and_keeps_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "# my notes about Sotto\n[speech]\n# the USB one\ninput_device = \"USB\"  # desk mic\nlanguage = \"de\"\n";
    std::fs::write(&path, text).unwrap();
    let mut config = Config::load(&path).unwrap();
    config.speech.input_device = "Headset".into();
    config.desktop.autostart = true;
    save(&path, &config).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with("# my notes about Sotto\n[speech]\n# the USB one\n"),
        "{written}"
    );
    assert!(
        written.contains("input_device = \"Headset\"  # desk mic"),
        "{written}"
    );
    assert!(written.contains("language = \"de\""), "{written}");
    // Unchanged defaults are not spelled out; the changed one is.
    assert!(!written.contains("[models]"), "{written}");
    assert!(
        written.contains("[desktop]") && written.contains("autostart = true"),
        "{written}"
    );
    assert_eq!(Config::load(&path).unwrap(), config);
}

#[test]
fn save_starts_a_missing_file_from_the_commented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/config.toml");
    let mut config = Config::default();
    config.history.keep_audio_days = 7;
    save(&path, &config).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("keep_audio_days = 7"), "{written}");
    assert!(
        written.contains("# Days to keep recorded audio"),
        "{written}"
    );
    assert_eq!(Config::load(&path).unwrap(), config);
}

#[test]
fn save_refuses_invalid_values_and_broken_files_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let mut config = Config::default();
    config.speech.language = "english".into();
    let err = save(&path, &config).unwrap_err();
    assert!(err.to_string().contains("speech.language"), "{err}");
    assert!(!path.exists());

    std::fs::write(&path, "[speech\nlanguage = ").unwrap();
    let err = save(&path, &Config::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "[speech\nlanguage = "
    );
}

#[test]
fn save_removes_a_path_set_back_to_its_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[paths]\nrecordings = \"/tmp/rec\"\n").unwrap();
    let mut config = Config::load(&path).unwrap();
    config.paths.recordings = None;
    save(&path, &config).unwrap();
    assert_eq!(Config::load(&path).unwrap().paths.recordings, None);
}

#[test]
fn fusion_settings_parse_with_defaults_for_what_is_left_out() {
    let config = Config::parse(
        "[speech]\nlanguage = \"en\"\n[speech.fusion]\nenabled = true\nbeam_size = 8\nbeta = -1.0\n",
        Path::new("c.toml"),
    )
    .unwrap();
    let fusion = &config.speech.fusion;
    assert!(fusion.enabled);
    assert_eq!(fusion.beam_size, 8);
    assert_eq!(fusion.beta, -1.0);
    assert_eq!(fusion.alpha, FusionConfig::default().alpha);
    assert_eq!(fusion.base_weight, FusionConfig::default().base_weight);
    assert!(
        !FusionConfig::default().enabled,
        "fusion is off until measured"
    );
}

#[test]
fn save_sets_a_nested_table_keeping_its_comments_and_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "[speech]\nlanguage = \"de\"\n\n[speech.fusion]\n# tried 0.3 too\nalpha = 0.5 # tuned\n\n[history]\nkeep_audio_days = 3\n";
    std::fs::write(&path, text).unwrap();
    let mut config = Config::load(&path).unwrap();
    config.speech.fusion.alpha = 0.25;
    config.speech.fusion.enabled = true;
    config.speech.vocabulary = vec!["Siobhan".into()];
    save(&path, &config).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.contains("# tried 0.3 too\nalpha = 0.25 # tuned"),
        "{written}"
    );
    assert!(written.contains("enabled = true"), "{written}");
    assert!(written.contains("keep_audio_days = 3"), "{written}");
    assert_eq!(Config::load(&path).unwrap(), config);

    // A file without the table gets one; the default file's commented one is kept.
    for start in [
        "[speech]\nlanguage = \"de\"\n[history]\nkeep_audio_days = 3\n",
        "",
    ] {
        let path = dir.path().join(format!("fresh{}.toml", start.len()));
        if !start.is_empty() {
            std::fs::write(&path, start).unwrap();
        }
        let mut config = Config::load(&path).unwrap();
        config.speech.fusion.beam_size = 2;
        save(&path, &config).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.contains("beam_size = 2"), "{written}");
        assert_eq!(Config::load(&path).unwrap(), config, "{written}");
    }

    // An inline table is replaced whole, still valid.
    let path = dir.path().join("inline.toml");
    std::fs::write(&path, "[speech]\nfusion = { enabled = true }\n").unwrap();
    let mut config = Config::load(&path).unwrap();
    config.speech.fusion.alpha = 1.0;
    save(&path, &config).unwrap();
    assert_eq!(Config::load(&path).unwrap(), config);
}
