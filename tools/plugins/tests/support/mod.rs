//! Shared by the host's tests: the guest plugins built for real (once per test process), a
//! host whose services record what plugins asked for, and contexts built the way the
//! executor builds them (manifest + grants -> `ToolContext::build`).

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sotto_plugins::{HostConfig, HostServices, HttpResponse, Limits, LogRecord, PluginHost};
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{FolderGrant, ToolGrants};
use sotto_tools::{Capability, Host, ToolContext, ToolManifest};

pub use sotto_e2e::guests::{guests, wasm};

/// What the plugins asked the desktop for, and everything they logged.
#[derive(Default)]
pub struct Recorder {
    pub logs: Mutex<Vec<LogRecord>>,
    pub notifications: Mutex<Vec<(String, String)>>,
    pub clipboard: Mutex<String>,
}

impl Recorder {
    pub fn logs(&self) -> Vec<LogRecord> {
        self.logs.lock().unwrap().clone()
    }
}

impl HostServices for Recorder {
    fn log(&self, record: LogRecord) {
        self.logs.lock().unwrap().push(record);
    }
    fn notify(&self, title: &str, body: &str) -> Result<(), String> {
        self.notifications
            .lock()
            .unwrap()
            .push((title.into(), body.into()));
        Ok(())
    }
    fn clipboard_read(&self) -> Result<String, String> {
        Ok(self.clipboard.lock().unwrap().clone())
    }
    fn clipboard_write(&self, text: &str) -> Result<(), String> {
        *self.clipboard.lock().unwrap() = text.into();
        Ok(())
    }
    fn http_get(&self, url: &url::Url, _max: usize) -> Result<HttpResponse, String> {
        Ok(HttpResponse {
            status: 200,
            body: format!("fetched {url}").into_bytes(),
        })
    }
}

pub fn test_limits() -> Limits {
    Limits {
        memory_bytes: 32 << 20,
        time: Duration::from_millis(500),
        output_bytes: 1 << 20,
        log_bytes: 16 << 10,
    }
}

pub fn host_with(limits: Limits) -> (PluginHost, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    // Beside the guests (`<target>/wasm-guests`), so it survives between runs.
    let cache = guests().join("../../wasmtime-cache");
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(cache),
        limits,
        services: recorder.clone(),
    })
    .expect("plugin host");
    (host, recorder)
}

pub fn host() -> (PluginHost, Arc<Recorder>) {
    host_with(test_limits())
}

/// A data folder and the grants for one call.
pub struct Setup {
    pub data: tempfile::TempDir,
    pub grants: ToolGrants,
}

impl Setup {
    pub fn new() -> Setup {
        Setup {
            data: tempfile::tempdir().unwrap(),
            grants: ToolGrants::default(),
        }
    }

    /// Grants the tool every capability it declares (what `sotto plugins install` does
    /// after the user says yes).
    pub fn grant_all(mut self, manifest: &ToolManifest) -> Setup {
        self.grants
            .capabilities
            .extend(manifest.capabilities.iter().cloned());
        self
    }

    pub fn grant(mut self, capability: Capability) -> Setup {
        self.grants.capabilities.insert(capability);
        self
    }

    pub fn folder(mut self, path: &Path, write: bool) -> Setup {
        self.grants.folders.push(FolderGrant {
            path: path.to_path_buf(),
            write,
        });
        self
    }

    pub fn context(&self, manifest: &ToolManifest) -> ToolContext {
        let host = Host::new(
            self.data.path().to_path_buf(),
            HostEnv::from_lookup(|_| None),
        );
        ToolContext::build(manifest, &host, &self.grants).expect("context")
    }
}
