//! What the desktop tests share: a private home with the real models, and a recorder in
//! place of the window that answers questions the way the dialog's buttons do.

#![allow(dead_code)] // each test binary uses its own part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sotto_desktop::ui::Ui;
use sotto_desktop::Assistant;
use sotto_executor::CancellationToken;
use sotto_window_api::{
    AssistantState, ConfirmAnswer, ConfirmClosed, ConfirmPrompt, ConfirmReply, ModelProgress,
    RequestUpdate, StatusView, VoiceUpdate,
};
use tokio::sync::mpsc;

#[derive(Default)]
pub struct Recorder {
    pub states: Mutex<Vec<AssistantState>>,
    pub updates: Mutex<Vec<RequestUpdate>>,
    pub closed: Mutex<Vec<ConfirmClosed>>,
    pub prompts: Mutex<Option<mpsc::UnboundedSender<ConfirmPrompt>>>,
    pub voice: Mutex<Vec<VoiceUpdate>>,
    pub models: Mutex<Vec<ModelProgress>>,
}

impl Ui for Recorder {
    fn status(&self, status: &StatusView) {
        self.states.lock().unwrap().push(status.state);
    }
    fn request(&self, update: &RequestUpdate) {
        self.updates.lock().unwrap().push(update.clone());
    }
    fn confirm(&self, prompt: &ConfirmPrompt) {
        if let Some(tx) = self.prompts.lock().unwrap().as_ref() {
            let _ = tx.send(prompt.clone());
        }
    }
    fn confirm_closed(&self, closed: &ConfirmClosed) {
        self.closed.lock().unwrap().push(closed.clone());
    }
    fn voice(&self, update: &VoiceUpdate) {
        self.voice.lock().unwrap().push(update.clone());
    }
    fn model(&self, progress: &ModelProgress) {
        self.models.lock().unwrap().push(progress.clone());
    }
}

pub struct Fixture {
    pub home: tempfile::TempDir,
    pub recorder: Arc<Recorder>,
    pub assistant: Arc<Assistant>,
    pub prompts: mpsc::UnboundedReceiver<ConfirmPrompt>,
}

impl Fixture {
    pub fn new(confirm_timeout: Duration) -> Fixture {
        // The planner worker sits beside the app in the target folder, not beside this test.
        let exe = std::env::current_exe().unwrap();
        let worker = exe.parent().unwrap().parent().unwrap().join("sotto-lm");
        assert!(
            worker.is_file(),
            "{} missing: build the workspace first",
            worker.display()
        );
        std::env::set_var("SOTTO_LM_WORKER", &worker);
        std::env::set_var("SOTTO_ASR_WORKER", worker.with_file_name("sotto-asr"));
        let home = tempfile::tempdir().unwrap();
        let models = sotto_e2e::test_models_dir();
        assert!(
            models.join("qwen2.5-coder-0.5b-instruct-q4_k_m").is_dir(),
            "test models missing in {}: run .ci/test",
            models.display()
        );
        let home_path = home.path().to_path_buf();
        let settings = sotto_config::Settings::load_with(|key| match key {
            "SOTTO_HOME" => Some(home_path.clone().into()),
            "SOTTO_MODELS_DIR" => Some(models.clone().into()),
            _ => None,
        })
        .unwrap();
        let app = sotto::app::App::from_settings(settings, None).unwrap();
        let recorder = Arc::new(Recorder::default());
        let (tx, prompts) = mpsc::unbounded_channel();
        *recorder.prompts.lock().unwrap() = Some(tx);
        let assistant = Assistant::with_timeout(app, recorder.clone(), confirm_timeout);
        Fixture {
            home,
            recorder,
            assistant,
            prompts,
        }
    }

    pub fn timers(&self) -> usize {
        sotto_e2e::count_files(&self.home.path().join("data/timers"), ".json")
    }

    /// Runs `text`, answering its one question with `answer` as the dialog would.
    pub async fn run_answering(
        &mut self,
        text: &str,
        answer: ConfirmAnswer,
    ) -> sotto::requests::Outcome {
        let assistant = Arc::clone(&self.assistant);
        let text = text.to_string();
        let running =
            tokio::spawn(async move { assistant.run(&text, CancellationToken::new()).await });
        let prompt = tokio::time::timeout(Duration::from_secs(120), self.prompts.recv())
            .await
            .expect("a question within two minutes")
            .unwrap();
        assert_eq!(prompt.tool, "timer_start");
        assert!(prompt.arguments.contains('5'), "{}", prompt.arguments);
        assert_eq!(self.assistant.confirmations.pending(), vec![prompt.clone()]);
        self.assistant
            .confirmations
            .answer(&ConfirmReply {
                id: prompt.id.clone(),
                answer,
            })
            .unwrap();
        // Answered once: the same id cannot answer again.
        assert!(self
            .assistant
            .confirmations
            .answer(&ConfirmReply {
                id: prompt.id,
                answer
            })
            .is_err());
        running.await.unwrap().unwrap()
    }
}

/// The request's last update (Done or Failed), waiting up to `timeout` for it.
pub async fn wait_for_done(recorder: &Recorder, timeout: Duration) -> RequestUpdate {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let done = recorder
            .updates
            .lock()
            .unwrap()
            .iter()
            .find(|u| matches!(u, RequestUpdate::Done { .. } | RequestUpdate::Failed { .. }))
            .cloned();
        if let Some(done) = done {
            return done;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no result in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
