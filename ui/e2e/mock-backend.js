// A fake Sotto backend for end-to-end tests in a plain browser, loaded before the page's own
// scripts (Playwright's addInitScript). It defines window.__TAURI_INTERNALS__ the way
// @tauri-apps/api/mocks (mockIPC with shouldMockEvents) does: `invoke` answers the app's commands
// and the event plugin's listen/unlisten, `transformCallback` registers event handlers, and
// emitting an event calls each handler with { event, id, payload }.
//
// The test drives it through window.__sottoMock: `calls` (every command with its arguments),
// `open(name)` (lets a paused scenario go on: `step1-<utterance>`, `download-<model id>`),
// `emit(event, payload)`, `micTesting()` (whether mic_test is on).
(() => {
  const callbacks = new Map();
  const listeners = new Map(); // event name -> handler ids
  const calls = [];
  const gates = new Map(); // name -> { opened, waiters }

  function transformCallback(callback, once = false) {
    const id = window.crypto.getRandomValues(new Uint32Array(1))[0];
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      return callback && callback(data);
    });
    return id;
  }

  function emit(event, payload) {
    for (const id of [...(listeners.get(event) || [])]) {
      const callback = callbacks.get(id);
      if (callback) callback({ event, id, payload });
    }
  }

  function gate(name) {
    let g = gates.get(name);
    if (!g) gates.set(name, (g = { opened: false, waiters: [] }));
    return g.opened ? Promise.resolve() : new Promise((resolve) => g.waiters.push(resolve));
  }

  function open(name) {
    let g = gates.get(name);
    if (!g) gates.set(name, (g = { opened: false, waiters: [] }));
    g.opened = true;
    g.waiters.splice(0).forEach((resolve) => resolve());
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // --- the fake backend's data ---------------------------------------------------------------
  const MIC = { kind: "ready", device: "Mock USB Microphone", native: "48000 Hz, 1 channel(s), f32" };
  let status = { state: "idle", detail: null, last_result: null, muted: false, microphone: MIC };
  let nextId = 3;
  let cancelled = false;
  const answers = new Map(); // confirmation id -> resolve(answer)

  const details = new Map([
    [
      1,
      {
        row: { id: 1, created_at: "2026-11-27T09:12:00Z", input: "voice", transcript: "what's the weather like", status: "done", plans: 1, calls: 1 },
        audio_path: "/home/user/.local/share/sotto/audio/1.wav",
        audio_ms: 1800,
        error: null,
        plans: [
          {
            text: '1. weather_now {"place": "here"}\n2. reply "$1"',
            duration_ms: 640,
            calls: [{ step: 1, tool: "weather_now", arguments: { place: "here" }, decision: "policy:read-only", result: { summary: "12 °C, light rain" }, error: null, duration_ms: 210 }],
          },
        ],
      },
    ],
    [
      2,
      {
        row: { id: 2, created_at: "2026-11-27T10:30:00Z", input: "typed", transcript: "open my notes", status: "failed", plans: 1, calls: 1 },
        audio_path: null,
        audio_ms: null,
        error: "notes_open: no such folder",
        plans: [
          {
            text: "1. notes_open {}",
            duration_ms: 300,
            calls: [{ step: 1, tool: "notes_open", arguments: {}, decision: "policy:read-only", result: null, error: "no such folder", duration_ms: 4 }],
          },
        ],
      },
    ],
  ]);

  const tools = [
    { name: "timer_set", description: "Sets a timer.", risk: "changes-local-data", setting: "allow", set_by_user: false, capabilities: ["may set timers"], plugin: null, always_asks: null },
    { name: "contacts_lookup", description: "Finds a contact by name.", risk: "read-only", setting: "allow", set_by_user: false, capabilities: ["may read your contacts"], plugin: null, always_asks: null },
    { name: "message_send", description: "Sends a chat message.", risk: "sends", setting: "always-ask", set_by_user: true, capabilities: ["may send messages as you"], plugin: "chat", always_asks: "sends messages or posts on your behalf" },
  ];

  function rows(search) {
    const all = [...details.values()].map((d) => d.row).sort((a, b) => b.id - a.id);
    if (!search) return all;
    const needle = search.toLowerCase();
    return all.filter((row) => (row.transcript || "").toLowerCase().includes(needle));
  }

  function setStatus(state, detail) {
    status = { ...status, state, detail };
    emit("sotto:status", status);
  }

  function record(text) {
    const id = nextId++;
    const detail = {
      row: { id, created_at: new Date().toISOString(), input: "typed", transcript: text, status: "running", plans: 0, calls: 0 },
      audio_path: null,
      audio_ms: null,
      error: null,
      plans: [],
    };
    details.set(id, detail);
    return detail;
  }

  function finish(detail, reply, ok) {
    detail.row.status = ok ? "done" : "failed";
    status = { ...status, state: "idle", detail: null, last_result: reply };
    emit("sotto:request", { kind: "done", utterance: detail.row.id, reply, ok, plan_ms: 420, fast_path: null });
    emit("sotto:status", status);
  }

  // A message to someone: a read-only lookup, then a send that needs the user's OK.
  async function messageScenario(text) {
    const detail = record(text);
    const utterance = detail.row.id;
    const name = /\b(ana|bo)\b/i.exec(text)?.[1] ?? "Ana";
    setStatus("thinking", `planning: ${text}`);
    emit("sotto:request", { kind: "recorded", utterance, text });
    await sleep(50);
    const lookupArgs = { name };
    const sendArgs = { to: "$1", text: "hi" };
    emit("sotto:request", { kind: "planned", utterance, step: { id: 1, tool: "contacts_lookup", args: lookupArgs, deps: [] } });
    emit("sotto:request", { kind: "planned", utterance, step: { id: 2, tool: "message_send", args: sendArgs, deps: [1] } });
    emit("sotto:request", { kind: "planned", utterance, step: { id: 3, tool: null, args: { text: "Sent." }, deps: [2] } });
    setStatus("acting", "contacts_lookup");
    emit("sotto:request", { kind: "started", utterance, id: 1, tool: "contacts_lookup", args: lookupArgs });
    await gate(`step1-${utterance}`);
    if (cancelled) return;
    // Tool output is untrusted: this must show as text.
    const hostile = `${name} <img src=x onerror="window.__xss=1"> (+34 600 000 000)`;
    emit("sotto:request", { kind: "finished", utterance, id: 1, tool: "contacts_lookup", ok: true, summary: hostile, ms: 12, approval: "policy:read-only" });
    const calls = [{ step: 1, tool: "contacts_lookup", arguments: lookupArgs, decision: "policy:read-only", result: { contact: hostile }, error: null, duration_ms: 12 }];
    detail.plans = [{ text: `1. contacts_lookup ${JSON.stringify(lookupArgs)}\n2. message_send ${JSON.stringify(sendArgs)}\n3. reply`, duration_ms: 420, calls }];
    detail.row.plans = 1;

    const question = `q-${utterance}`;
    setStatus("needs-confirmation", "message_send waits for your OK");
    const answered = new Promise((resolve) => answers.set(question, resolve));
    emit("sotto:confirm", {
      id: question,
      tool: "message_send",
      description: "Sends a chat message.",
      risk: "sends messages",
      arguments: JSON.stringify({ to: `${name} (+34 600 000 000)`, text: "hi" }, null, 2),
      reason: "message_send always asks before it sends.",
      can_always: false,
      timeout_secs: 30,
    });
    const answer = await answered;
    emit("sotto:confirm-closed", { id: question, answer });
    if (answer === "deny") {
      emit("sotto:request", { kind: "skipped", utterance, id: 2, tool: "message_send", reason: "you said no" });
      calls.push({ step: 2, tool: "message_send", arguments: sendArgs, decision: "user:deny", result: null, error: "denied by the user", duration_ms: null });
      detail.row.calls = calls.length;
      finish(detail, `I did not send the message to ${name}.`, false);
      return;
    }
    setStatus("acting", "message_send");
    emit("sotto:request", { kind: "started", utterance, id: 2, tool: "message_send", args: sendArgs });
    await sleep(80);
    emit("sotto:request", { kind: "finished", utterance, id: 2, tool: "message_send", ok: true, summary: "sent", ms: 80, approval: "user:window" });
    calls.push({ step: 2, tool: "message_send", arguments: sendArgs, decision: `user:${answer}`, result: { sent: true }, error: null, duration_ms: 80 });
    detail.row.calls = calls.length;
    finish(detail, `Sent “hi” to ${name}.`, true);
  }

  async function timerScenario(text, input = "typed") {
    const detail = record(text);
    detail.row.input = input;
    const utterance = detail.row.id;
    setStatus("thinking", `planning: ${text}`);
    emit("sotto:request", { kind: "recorded", utterance, text });
    await sleep(50);
    const args = { minutes: 10 };
    emit("sotto:request", { kind: "planned", utterance, step: { id: 1, tool: "timer_set", args, deps: [] } });
    setStatus("acting", "timer_set");
    emit("sotto:request", { kind: "started", utterance, id: 1, tool: "timer_set", args });
    await sleep(50);
    emit("sotto:request", { kind: "finished", utterance, id: 1, tool: "timer_set", ok: true, summary: "due at 10:40", ms: 3, approval: "policy:allow" });
    detail.plans = [{ text: "1. timer_set {\"minutes\": 10}", duration_ms: 1, calls: [{ step: 1, tool: "timer_set", arguments: args, decision: "policy:allow", result: { due: "10:40" }, error: null, duration_ms: 3 }] }];
    detail.row.plans = 1;
    detail.row.calls = 1;
    finish(detail, "Timer set for 10 minutes.", true);
  }

  // --- voice, settings, models, plugins, onboarding --------------------------------------------
  let preferences = {
    input_device: "",
    language: "en",
    partials: true,
    keep_recordings: true,
    name_fusion: false,
    keep_audio_days: 30,
    push_to_talk_key: "Ctrl+Alt+Space",
    toggle_key: "",
    autostart: false,
    notifications: true,
    asr_model: "",
    planner_model: "",
  };
  const devices = [
    { id: "usb", name: "Mock USB Microphone", is_default: true },
    { id: "laptop", name: "Built-in microphone", is_default: false },
  ];
  const models = [
    { id: "whisper-base-en", task: "asr", description: "Whisper base, English.", size_bytes: 148_000_000, state: "installed", recommended: true, in_use: true },
    { id: "whisper-small", task: "asr", description: "Whisper small, many languages.", size_bytes: 488_000_000, state: "missing", recommended: false, in_use: false },
    { id: "silero-vad", task: "vad", description: "Finds speech in audio.", size_bytes: 2_300_000, state: "installed", recommended: true, in_use: true },
    { id: "qwen2.5-1.5b-q4", task: "planner", description: "The planner.", size_bytes: 1_100_000_000, state: "partial", recommended: true, in_use: true },
  ];
  const plugins = [{ id: "chat", name: "Chat", version: "0.3.1", enabled: true, tools: ["message_send"] }];
  let onboarded = false;
  let restartNeeded = false;
  let micTimer = null;

  const settingsView = () => ({
    preferences,
    devices,
    hotkeys_note: "On Wayland, global hotkeys need the desktop's permission (see the README).",
    config_file: "/home/user/.config/sotto/config.toml",
    restart_needed: restartNeeded,
  });

  function setMic(muted) {
    status = { ...status, muted, microphone: muted ? { kind: "muted" } : MIC };
    emit("sotto:status", status);
  }

  // A download in a few steps, then the model is installed.
  async function download(id) {
    const model = models.find((m) => m.id === id);
    const total = model.size_bytes;
    for (const part of [0, 0.35, 0.7, 1]) {
      emit("sotto:model", { id, stage: "download", bytes_done: Math.round(total * part), bytes_total: total, message: null, done: false, error: null });
      await sleep(120);
    }
    emit("sotto:model", { id, stage: "verify", bytes_done: total, bytes_total: total, message: "checking the sha256", done: false, error: null });
    await gate(`download-${id}`);
    model.state = "installed";
    emit("sotto:model", { id, stage: "download", bytes_done: total, bytes_total: total, message: "installed", done: true, error: null });
  }

  let heardText = "set a timer for ten minutes";

  const commands = {
    status: () => status,
    prepare: () => null,
    submit: ({ text }) => {
      cancelled = false;
      const run = /message/i.test(text) ? messageScenario : timerScenario;
      setTimeout(() => void run(text), 0);
      return null;
    },
    cancel: () => {
      cancelled = true;
      const utterance = nextId - 1;
      const detail = details.get(utterance);
      if (detail) detail.row.status = "failed";
      emit("sotto:request", { kind: "failed", utterance, error: "cancelled" });
      status = { ...status, state: "idle", detail: null };
      emit("sotto:status", status);
      return null;
    },
    confirm_answer: ({ reply }) => {
      const resolve = answers.get(reply.id);
      if (!resolve) throw new Error(`no open question ${reply.id}`);
      answers.delete(reply.id);
      resolve(reply.answer);
      return null;
    },
    pending_confirmations: () => [],
    history: ({ search, limit }) => rows(search).slice(0, limit),
    history_detail: ({ id }) => {
      const detail = details.get(id);
      if (!detail) throw new Error(`no history entry ${id}`);
      return detail;
    },
    history_delete: ({ id }) => {
      details.delete(id);
      return null;
    },
    tools: () => tools,
    listen_start: () => {
      if (status.muted) throw new Error("the microphone is muted");
      setStatus("listening", null);
      emit("sotto:voice", { kind: "started" });
      emit("sotto:voice", { kind: "level", dbfs: -21 });
      emit("sotto:voice", { kind: "partial", text: "set a timer" });
      return null;
    },
    listen_stop: () => {
      const text = heardText;
      const utterance = nextId;
      emit("sotto:voice", { kind: "heard", utterance, text, audio_ms: 1900, transcribe_ms: 140 });
      setTimeout(() => void timerScenario(text, "voice"), 0);
      return null;
    },
    set_muted: ({ muted }) => {
      setMic(muted);
      return null;
    },
    settings: () => settingsView(),
    save_preferences: ({ preferences: next }) => {
      if (next.keep_audio_days > 3650) throw "keep_audio_days: at most 3650 days (10 years); use 0 to keep recordings forever";
      if (next.asr_model !== preferences.asr_model || next.planner_model !== preferences.planner_model) restartNeeded = true;
      preferences = { ...next };
      return settingsView();
    },
    mic_test: ({ on }) => {
      clearInterval(micTimer);
      micTimer = null;
      if (on) {
        let i = 0;
        micTimer = setInterval(() => emit("sotto:voice", { kind: "level", dbfs: [-52, -38, -30, -44][i++ % 4] }), 100);
      }
      return null;
    },
    models: () => models,
    model_fetch: ({ id }) => {
      if (!models.some((m) => m.id === id)) throw new Error(`no model ${id}`);
      setTimeout(() => void download(id), 0);
      return null;
    },
    plugins: () => plugins,
    plugin_set_enabled: ({ id, enabled }) => {
      const plugin = plugins.find((p) => p.id === id);
      if (!plugin) throw new Error(`no plugin ${id}`);
      plugin.enabled = enabled;
      return null;
    },
    onboarding: () => ({
      done: onboarded,
      models: models.filter((m) => m.recommended),
      push_to_talk_key: preferences.push_to_talk_key,
      hotkeys_note: null,
    }),
    onboarding_done: () => {
      onboarded = true;
      return null;
    },
    set_tool_setting: ({ tool, setting }) => {
      const found = tools.find((t) => t.name === tool);
      if (!found) throw new Error(`there is no tool called "${tool}"`);
      found.set_by_user = setting !== null;
      found.setting = setting ?? "allow";
      return null;
    },
    "plugin:event|listen": ({ event, handler }) => {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(handler);
      return handler;
    },
    "plugin:event|unlisten": ({ event, eventId }) => {
      const ids = listeners.get(event) || [];
      const index = ids.indexOf(eventId);
      if (index !== -1) ids.splice(index, 1);
      return null;
    },
  };

  async function invoke(cmd, args = {}) {
    calls.push([cmd, JSON.parse(JSON.stringify(args ?? {}))]);
    const command = commands[cmd];
    if (!command) throw new Error(`mock backend: unknown command ${cmd}`);
    return command(args ?? {});
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback: (id) => callbacks.delete(id),
    runCallback: (id, data) => callbacks.get(id)?.(data),
    callbacks,
    convertFileSrc: (path, protocol = "asset") => `${protocol}://localhost/${encodeURIComponent(path)}`,
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: (_event, id) => callbacks.delete(id) };
  window.__sottoMock = { calls, open, emit, listeners, micTesting: () => micTimer !== null, setHeard: (text) => (heardText = text) };
})();
