//! The plugin host: one wasmtime engine (with its compiled-code cache and epoch ticker),
//! loading plugins, and their tools as [`Tool`]s.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sotto_tools::{Capability, Registry, Tool, ToolContext, ToolError, ToolManifest, ToolOutput};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::Component;
use wasmtime::{Cache, CacheConfig, Config, Engine};

use crate::bindings::{CallError, SottoPluginPre};
use crate::call::{self, Access, CallState, Preopen, Shared, Target};
use crate::manifest::{check_info, convert, DataFolder};
use crate::services::{HostServices, LogLevel, LogRecord, LogSource};
use crate::{CallFailure, LoadError};

/// The plugin API versions this host runs: `0.1.x` (`tools/wit/since_v0.1.0`).
pub const SUPPORTED_API: &str = ">=0.1.0, <0.2.0";
const EXPORT_PREFIX: &str = "sotto:plugin/plugin@";

fn api_supported(version: &str) -> bool {
    let mut parts = version.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next().map(|p| p.split(['-', '+']).next())),
        (Some("0"), Some("1"), Some(Some(patch))) if patch.parse::<u32>().is_ok()
    ) && parts.next().is_none()
}

/// Per-call limits. Each call gets a fresh store, so a limit hit ends that call only.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Linear memory, all memories of the instance together.
    pub memory_bytes: u64,
    /// Wall-clock time for instantiation plus the call (epoch interruption).
    pub time: Duration,
    /// The result JSON plus summary; also the most `http-get` returns.
    pub output_bytes: usize,
    /// Captured stdout and stderr, each.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 64 << 20,
            time: Duration::from_secs(5),
            output_bytes: 1 << 20,
            log_bytes: 64 << 10,
        }
    }
}

/// How to build a [`PluginHost`].
pub struct HostConfig {
    /// Where compiled components are cached (wasmtime's own cache); `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    pub limits: Limits,
    pub services: Arc<dyn HostServices>,
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConfig")
            .field("cache_dir", &self.cache_dir)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Loads plugins and owns what their calls share. Its tools keep working after it is dropped.
pub struct PluginHost {
    shared: Arc<Shared>,
    linker: wasmtime::component::Linker<CallState>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    pub fn new(config: HostConfig) -> Result<PluginHost, LoadError> {
        let engine_error = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
        let mut wasm = Config::new();
        wasm.wasm_component_model(true).epoch_interruption(true);
        if let Some(dir) = &config.cache_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                LoadError::Engine(format!("cannot create the cache {}: {e}", dir.display()))
            })?;
            let mut cache = CacheConfig::new();
            cache.with_directory(dir);
            wasm.cache(Some(Cache::new(cache).map_err(engine_error)?));
        }
        let engine = Engine::new(&wasm).map_err(engine_error)?;
        let linker = call::linker(&engine).map_err(engine_error)?;
        let shared = Arc::new(Shared {
            engine,
            services: config.services,
            limits: config.limits,
        });
        // Epochs are wall-clock ticks: a guest that never returns is interrupted at the first
        // tick past its deadline, whatever it is doing in wasm. The ticker lives as long as
        // anything that can call a plugin (the host or any of its tools) does.
        let ticking = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("sotto-plugin-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(call::TICK);
                match ticking.upgrade() {
                    Some(shared) => shared.engine.increment_epoch(),
                    None => break,
                }
            })
            .map_err(|e| LoadError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(PluginHost { shared, linker })
    }

    /// Loads the component at `path`: compiles it (or takes it from the cache), checks the
    /// API version it was built for before instantiating it, asks it for its tools under
    /// the same limits as a call, and checks every manifest. Blocking; call it from a
    /// blocking thread in async code.
    pub fn load(&self, path: &Path) -> Result<Plugin, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(path, &bytes)
    }

    /// [`PluginHost::load`] for bytes already read; `path` is for messages.
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<Plugin, LoadError> {
        let path_buf = path.to_path_buf();
        let sha256 = hex::encode(Sha256::digest(bytes));
        let component =
            Component::new(&self.shared.engine, bytes).map_err(|e| LoadError::NotAComponent {
                path: path_buf.clone(),
                message: format!("{e:#}"),
            })?;
        let api_version = self.api_version(path, &component)?;
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::Link {
                    path: path_buf.clone(),
                    message: format!("{e:#}"),
                })?;
        let pre = SottoPluginPre::new(instance_pre).map_err(|e| LoadError::Link {
            path: path_buf.clone(),
            message: format!("{e:#}"),
        })?;

        let unknown: Arc<str> = Arc::from("(loading)");
        let no_hosts: Arc<[String]> = Arc::from(Vec::new());
        let (info, wit_manifests) = call::run(
            &self.shared,
            &pre,
            Target {
                plugin: &unknown,
                tool: "",
                http_hosts: &no_hosts,
            },
            Access::default(),
            |store, plugin| {
                let api = plugin.sotto_plugin_plugin();
                let info = api.call_info(&mut *store)?;
                let manifests = api.call_manifests(&mut *store)?;
                Ok((info, manifests))
            },
        )
        .map_err(|failure| LoadError::Describe {
            path: path_buf.clone(),
            failure,
        })?;
        let bad = |message: String| LoadError::BadManifest {
            path: path_buf.clone(),
            message,
        };
        check_info(&info).map_err(bad)?;
        if wit_manifests.is_empty() {
            return Err(bad("the plugin offers no tools".into()));
        }
        let id: Arc<str> = Arc::from(info.id.as_str());
        let loaded = Arc::new(Loaded {
            id: id.clone(),
            http_hosts: Arc::from(info.http_hosts.clone()),
            pre,
            shared: self.shared.clone(),
        });
        // The registry's own checks (names, duplicates, schemas, examples), as for built-ins.
        let mut registry = Registry::new();
        let mut tools = Vec::new();
        for wit in &wit_manifests {
            let (manifest, folders) = convert(&info.id, wit).map_err(bad)?;
            let result_validator = jsonschema::validator_for(&manifest.result_schema)
                .map_err(|e| bad(format!("tool `{}`: bad result schema: {e}", manifest.name)))?;
            let tool = Arc::new(PluginTool {
                plugin: loaded.clone(),
                manifest,
                folders,
                result_validator: Arc::new(result_validator),
            });
            registry
                .register(tool.clone())
                .map_err(|e| bad(e.to_string()))?;
            tools.push(tool);
        }
        Ok(Plugin {
            meta: PluginMeta {
                id: info.id,
                name: info.name,
                version: info.version,
                api_version,
                http_hosts: info.http_hosts,
                sha256,
            },
            tools,
        })
    }

    /// Reads the API version from the exported interface's name, before any guest code runs.
    fn api_version(&self, path: &Path, component: &Component) -> Result<String, LoadError> {
        let ty = component.component_type();
        let version = ty
            .exports(&self.shared.engine)
            .find_map(|(name, item)| {
                let version = name.strip_prefix(EXPORT_PREFIX)?;
                matches!(item.ty, ComponentItem::ComponentInstance(_)).then(|| version.to_string())
            })
            .ok_or_else(|| LoadError::NotAPlugin {
                path: path.to_path_buf(),
            })?;
        if !api_supported(&version) {
            return Err(LoadError::UnsupportedApi {
                path: path.to_path_buf(),
                found: version,
                supported: SUPPORTED_API,
            });
        }
        Ok(version)
    }
}

/// What a loaded plugin said about itself, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginMeta {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The plugin API version it was built against, such as `0.1.0`.
    pub api_version: String,
    pub http_hosts: Vec<String>,
    /// Of the component file, lowercase hex: what an install pins.
    pub sha256: String,
}

/// A loaded plugin: its description and its tools, ready to register.
pub struct Plugin {
    meta: PluginMeta,
    tools: Vec<Arc<PluginTool>>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("meta", &self.meta)
            .field(
                "tools",
                &self
                    .tools
                    .iter()
                    .map(|t| &t.manifest.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Plugin {
    pub fn meta(&self) -> &PluginMeta {
        &self.meta
    }

    pub fn manifests(&self) -> impl Iterator<Item = &ToolManifest> {
        self.tools.iter().map(|t| &t.manifest)
    }

    /// Every capability any of its tools declares, for the install prompt.
    pub fn capabilities(&self) -> Vec<Capability> {
        let mut all: Vec<Capability> = self
            .tools
            .iter()
            .flat_map(|t| t.manifest.capabilities.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    pub fn tool(&self, name: &str) -> Option<Arc<PluginTool>> {
        self.tools.iter().find(|t| t.manifest.name == name).cloned()
    }

    /// The tools, for [`Registry::register`].
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.tools
            .iter()
            .map(|t| t.clone() as Arc<dyn Tool>)
            .collect()
    }
}

struct Loaded {
    id: Arc<str>,
    http_hosts: Arc<[String]>,
    pre: SottoPluginPre<CallState>,
    shared: Arc<Shared>,
}

/// Why a plugin tool's call produced no output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginCallError {
    /// The plugin answered with an error (including a capability it was denied).
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The call was stopped or its answer was unusable; the plugin is still usable.
    #[error("plugin `{plugin}`, tool `{tool}`: {failure}")]
    Failed {
        plugin: String,
        tool: String,
        failure: CallFailure,
    },
}

/// One tool of a plugin, callable like a built-in.
pub struct PluginTool {
    plugin: Arc<Loaded>,
    manifest: ToolManifest,
    folders: Vec<DataFolder>,
    result_validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for PluginTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginTool")
            .field("plugin", &self.plugin.id)
            .field("tool", &self.manifest.name)
            .finish_non_exhaustive()
    }
}

impl PluginTool {
    /// What this call may touch, from the context the policy built: only handles that are
    /// there become preopens or allowed imports.
    fn access(&self, context: &ToolContext) -> Result<Access, ToolError> {
        if context.tool() != self.manifest.name {
            return Err(ToolError::Failed(format!(
                "a context for `{}` cannot run `{}`",
                context.tool(),
                self.manifest.name
            )));
        }
        let mut access = Access {
            notify: context.has(&Capability::Notify),
            clipboard: context.has(&Capability::Clipboard),
            network: context.has(&Capability::Network),
            preopens: Vec::new(),
        };
        for folder in &self.folders {
            if let Ok(dir) = context.sotto_dir(&folder.key) {
                access.preopens.push(Preopen {
                    host: dir.root().to_path_buf(),
                    guest: format!("/data/{}", folder.name),
                    write: dir.access() == sotto_sandbox::Access::ReadWrite,
                });
            }
        }
        let declares_user_folders = self.manifest.capabilities.iter().any(|c| {
            matches!(
                c,
                Capability::ReadDir(sotto_tools::DirScope::UserFolders)
                    | Capability::WriteDir(sotto_tools::DirScope::UserFolders)
            )
        });
        if declares_user_folders {
            if let Ok(dirs) = context.user_folders() {
                for (index, dir) in dirs.iter().enumerate() {
                    access.preopens.push(Preopen {
                        host: dir.root().to_path_buf(),
                        guest: format!("/folders/{index}"),
                        write: dir.access() == sotto_sandbox::Access::ReadWrite,
                    });
                }
            }
        }
        Ok(access)
    }

    /// Runs the call on the current thread (it blocks for up to the time limit).
    pub fn call_blocking(
        &self,
        args: &Value,
        context: &ToolContext,
    ) -> Result<ToolOutput, PluginCallError> {
        let access = self.access(context)?;
        self.invoke(&args.to_string(), access)
    }

    /// Runs the call on a blocking thread, with failures kept apart from the plugin's own
    /// errors.
    pub async fn call_checked(
        self: &Arc<Self>,
        args: &Value,
        context: &ToolContext,
    ) -> Result<ToolOutput, PluginCallError> {
        let access = self.access(context)?;
        let args = args.to_string();
        let tool = self.clone();
        tokio::task::spawn_blocking(move || tool.invoke(&args, access))
            .await
            .unwrap_or_else(|e| {
                Err(PluginCallError::Failed {
                    plugin: self.plugin.id.to_string(),
                    tool: self.manifest.name.clone(),
                    failure: CallFailure::Host(format!("the call's thread failed: {e}")),
                })
            })
    }

    fn invoke(&self, args_json: &str, access: Access) -> Result<ToolOutput, PluginCallError> {
        let loaded = &self.plugin;
        let limits = &loaded.shared.limits;
        let name = self.manifest.name.as_str();
        let failed = |failure: CallFailure| PluginCallError::Failed {
            plugin: loaded.id.to_string(),
            tool: name.to_string(),
            failure,
        };
        let answer = call::run(
            &loaded.shared,
            &loaded.pre,
            Target {
                plugin: &loaded.id,
                tool: name,
                http_hosts: &loaded.http_hosts,
            },
            access,
            |store, plugin| {
                plugin
                    .sotto_plugin_plugin()
                    .call_call(store, name, args_json)
            },
        )
        .map_err(failed)?;
        let output = match answer {
            Ok(output) => output,
            Err(error) => {
                let error = self.tool_error(error);
                self.log(
                    LogLevel::Warn,
                    format!("the plugin answered with an error: {error}"),
                );
                return Err(PluginCallError::Tool(error));
            }
        };
        let size = output.value_json.len() + output.summary.len();
        let check = || -> Result<ToolOutput, CallFailure> {
            if size > limits.output_bytes {
                return Err(CallFailure::OutputTooLarge {
                    size,
                    limit: limits.output_bytes,
                });
            }
            let value: Value = serde_json::from_str(&output.value_json).map_err(|e| {
                CallFailure::MalformedOutput(format!("the result is not JSON: {e}"))
            })?;
            if let Some(problem) = self.result_validator.iter_errors(&value).next() {
                return Err(CallFailure::MalformedOutput(format!(
                    "the result does not match the tool's result schema: {problem}"
                )));
            }
            Ok(ToolOutput {
                value,
                summary: output.summary.chars().take(500).collect(),
            })
        };
        check().map_err(|failure| {
            self.log(LogLevel::Error, format!("call failed: {failure}"));
            failed(failure)
        })
    }

    fn log(&self, level: LogLevel, message: String) {
        self.plugin.shared.services.log(LogRecord {
            plugin: self.plugin.id.to_string(),
            tool: self.manifest.name.clone(),
            source: LogSource::Host,
            level,
            message,
        });
    }

    fn tool_error(&self, error: CallError) -> ToolError {
        let tool = &self.manifest.name;
        match error {
            CallError::UnknownTool(name) => ToolError::UnknownTool(name),
            CallError::InvalidArgs(message) => ToolError::InvalidArgs {
                tool: tool.clone(),
                problems: vec![sotto_tools::ArgProblem {
                    field: "/".into(),
                    message,
                }],
            },
            CallError::CapabilityDenied(key) => match Capability::from_key(&key) {
                Some(capability) => ToolError::missing(tool, capability),
                None => ToolError::Failed(format!(
                    "{tool} needs the capability `{key}`, which it was not given"
                )),
            },
            CallError::Refused(message) => ToolError::Refused(message),
            CallError::Failed(message) => ToolError::Failed(message),
        }
    }
}

impl Tool for PluginTool {
    fn manifest(&self) -> &ToolManifest {
        &self.manifest
    }

    fn call<'a>(
        &'a self,
        args: &'a Value,
        context: &'a ToolContext,
    ) -> BoxFuture<'a, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let access = self.access(context)?;
            let args = args.to_string();
            let plugin = self.plugin.clone();
            let manifest = self.manifest.clone();
            let folders = self.folders.clone();
            let result_validator = self.result_validator.clone();
            // The call blocks (wasmtime is driven synchronously); keep it off the runtime.
            let detached = PluginTool {
                plugin,
                manifest,
                folders,
                result_validator,
            };
            let result = tokio::task::spawn_blocking(move || detached.invoke(&args, access))
                .await
                .map_err(|e| ToolError::Failed(format!("the plugin call's thread failed: {e}")))?;
            result.map_err(|error| match error {
                PluginCallError::Tool(error) => error,
                failed @ PluginCallError::Failed { .. } => ToolError::Failed(failed.to_string()),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::api_supported;

    #[test]
    fn api_range() {
        for good in ["0.1.0", "0.1.7", "0.1.2-pre"] {
            assert!(api_supported(good), "{good}");
        }
        for bad in ["0.2.0", "1.1.0", "0.1", "0.1.x", "0.1.0.1", ""] {
            assert!(!api_supported(bad), "{bad}");
        }
    }
}
