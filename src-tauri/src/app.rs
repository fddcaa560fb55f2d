//! The application's services, built once from the settings: where things are, the history
//! store, the model manager. The CLI and the desktop shell both start here.

use std::path::Path;

use anyhow::{Context, Result};
use sotto_config::Settings;
use sotto_models::{Catalog, ManagerConfig, ModelManager};
use sotto_store::Store;

/// Environment variable naming a catalog file to use instead of the built-in one.
pub const CATALOG_ENV: &str = "SOTTO_CATALOG";

#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    pub models: ModelManager,
    store: tokio::sync::OnceCell<Store>,
}

impl App {
    /// Loads settings and the catalog. The database is opened on first use, so commands that
    /// do not need it (`models path`) work even when it is damaged.
    pub fn load(catalog_override: Option<&Path>) -> Result<App> {
        App::from_settings(Settings::load()?, catalog_override)
    }

    /// From settings resolved elsewhere (a test's private home, without touching the
    /// process environment).
    pub fn from_settings(settings: Settings, catalog_override: Option<&Path>) -> Result<App> {
        let catalog = match catalog_override {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the catalog {}", path.display()))?;
                Catalog::parse(&text, &path.display().to_string())?
            }
            None => Catalog::builtin(),
        };
        let models_config = &settings.config.models;
        let manager_config = ManagerConfig {
            pypi_index: models_config.pypi_index.clone(),
            huggingface_endpoint: models_config.huggingface_endpoint.clone(),
            stall_timeout: std::time::Duration::from_secs(models_config.stall_timeout_secs),
            ..ManagerConfig::new(&settings.models_dir, &settings.downloads_dir)
        };
        Ok(App {
            models: ModelManager::new(catalog, manager_config),
            settings,
            store: Default::default(),
        })
    }

    pub async fn store(&self) -> Result<&Store> {
        self.store
            .get_or_try_init(|| Store::open(&self.settings.database))
            .await
            .map_err(Into::into)
    }
}
