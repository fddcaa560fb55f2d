//! `sotto config`: where things are, what is configured, and a commented starting file.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use sotto_config::Settings;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every resolved path and the effective configuration.
    Show,
    /// Print the configuration file's path.
    Path,
    /// Write the commented default configuration file.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(command: ConfigCommand) -> Result<ExitCode> {
    match command {
        ConfigCommand::Path => {
            let dirs = sotto_config::BaseDirs::from_process_env()?;
            println!("{}", dirs.config_file().display());
        }
        ConfigCommand::Init { force } => {
            let dirs = sotto_config::BaseDirs::from_process_env()?;
            let path = dirs.config_file();
            sotto_config::write_default_config(&path, force)?;
            println!("wrote {}", path.display());
        }
        ConfigCommand::Show => {
            let settings = Settings::load()?;
            let exists = if settings.config_file.exists() {
                ""
            } else {
                " (absent: all defaults)"
            };
            println!("# config file: {}{exists}", settings.config_file.display());
            println!("# data:        {}", settings.dirs.data.display());
            println!("# cache:       {}", settings.dirs.cache.display());
            println!("# database:    {}", settings.database.display());
            println!("# models:      {}", settings.models_dir.display());
            println!("# recordings:  {}", settings.recordings_dir.display());
            println!("# downloads:   {}", settings.downloads_dir.display());
            print!("{}", toml::to_string_pretty(&settings.config)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
