// End-to-end test of the built window (dist/) in Debian's headless Chromium, driven by
// playwright-core, with the backend replaced by mock-backend.js. Saves screenshots of the main
// states to test-results/. Exits non-zero on any failure.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const uiDir = resolve(here, "..");
const distDir = join(uiDir, "dist");
const resultsDir = join(uiDir, "test-results");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARM_MS = 400; // src/confirm.ts: allow keys work only after the dialog has been up this long

if (!existsSync(join(distDir, "index.html"))) {
  console.error("e2e: dist/index.html is missing; run `npm run build` first");
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`e2e: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  process.exit(1);
}
mkdirSync(resultsDir, { recursive: true });

// --- a tiny static server for dist/ on a free loopback port ---------------------------------
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon" };
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  const file = normalize(join(distDir, path === "/" ? "index.html" : path));
  if (!file.startsWith(distDir)) {
    res.writeHead(403).end();
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const userDataDir = mkdtempSync(join(tmpdir(), "sotto-e2e-"));
// A fresh profile each run (playwright passes it to Chromium as --user-data-dir).
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1000, height: 760 },
  colorScheme: "light",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const failures = [];
const pageErrors = [];
let passed = 0;

async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`  ✓ ${name}`);
  } catch (error) {
    failures.push(name);
    console.log(`  ✗ ${name}\n    ${String(error?.stack ?? error).split("\n").slice(0, 4).join("\n    ")}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const byId = (id) => `[data-testid="${id}"]`;

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(5000);
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(`console: ${message.text()} (${message.location().url})`);
  });
  await page.addInitScript({ path: join(here, "mock-backend.js") });

  const calls = (cmd) => page.evaluate((c) => window.__sottoMock.calls.filter(([name]) => name === c).map(([, args]) => args), cmd);
  const focusedTestId = () => page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? null);
  const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });

  console.log(`e2e: ${url} in ${CHROMIUM}`);
  await page.goto(url);

  await step("first run: the onboarding shows, tests the microphone, downloads a model, finishes", async () => {
    await page.waitForSelector(byId("onboarding"));
    expect((await page.locator(`${byId("onboarding-step")}`).getAttribute("data-step")) === "1", "starts at step 1");
    await page.waitForSelector(`${byId("onboarding-device")} option[value="laptop"]`, { state: "attached" });
    await page.locator(byId("onboarding-device")).selectOption("laptop");
    await page.waitForFunction(() => window.__sottoMock.calls.some(([c, a]) => c === "save_preferences" && a.preferences.input_device === "laptop"));
    await page.locator(`${byId("onboarding")} ${byId("mic-test")}`).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="onboarding-heard"]')?.textContent === "We hear you.");
    const level = Number(await page.locator(byId("onboarding-level")).getAttribute("aria-valuenow"));
    expect(level > 0, `level meter at ${level}`);
    await shot("onboarding");
    await page.locator(byId("onboarding-next")).click();
    await page.waitForFunction(() => !window.__sottoMock.micTesting());
    expect(JSON.stringify((await calls("mic_test")).map((a) => a.on)) === "[true,false]", "mic_test on, then off on leaving step 1");
    // Step 2: the planner is only partly downloaded.
    expect((await page.locator(byId("onboarding-allset")).textContent()) === "", "not all set yet");
    await page.locator(`${byId("model-download")}[data-id="qwen2.5-1.5b-q4"]`).click();
    await page.waitForSelector(`${byId("model-progress")}[data-id="qwen2.5-1.5b-q4"][data-stage="verify"]`);
    await shot("onboarding-models");
    await page.evaluate(() => window.__sottoMock.open("download-qwen2.5-1.5b-q4"));
    await page.waitForFunction(() => document.querySelector('[data-testid="onboarding-allset"]')?.textContent.startsWith("All set"));
    await page.locator(byId("onboarding-next")).click();
    expect((await page.locator(byId("onboarding-ptt")).textContent()) === "Ctrl+Alt+Space", "the push-to-talk key");
    expect((await page.locator(byId("onboarding")).textContent()).includes("never given by voice"), "says confirmations are never by voice");
    await page.locator(byId("onboarding-finish")).click();
    await page.waitForSelector(byId("onboarding"), { state: "detached" });
    expect((await calls("onboarding_done")).length === 1, "onboarding_done once");
  });

  await step("idle window: Ready, history rows, command box focused", async () => {
    await page.waitForFunction(() => document.querySelector('[data-testid="state"]')?.textContent === "Ready");
    await page.waitForSelector(`${byId("history-row")}[data-id="2"]`);
    expect((await page.locator(byId("history-row")).count()) === 2, "expected the 2 seeded history rows");
    expect((await focusedTestId()) === "command-input", "the command box should have focus");
    expect(await page.locator(byId("command-cancel")).isHidden(), "Cancel should be hidden when idle");
    expect((await page.locator(byId("mic-state")).textContent()) === "Mock USB Microphone", "the microphone in the header");
    await shot("idle");
  });

  await step("typed request: steps arrive, the box is busy, Cancel shows", async () => {
    await page.locator(byId("command-input")).fill("send Ana a message saying hi");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="live-step"]').length === 3);
    await page.waitForSelector(`${byId("live-step")}[data-step-id="1"][data-status="running"]`);
    expect(await page.locator(byId("command-submit")).isDisabled(), "Run should be disabled while busy");
    expect(await page.locator(byId("command-cancel")).isVisible(), "Cancel should show while busy");
    expect((await page.locator(byId("state")).textContent()) === "Acting", "state pill should say Acting");
    const submits = await calls("submit");
    expect(JSON.stringify(submits) === JSON.stringify([{ text: "send Ana a message saying hi" }]), `submit args: ${JSON.stringify(submits)}`);
    await shot("running");
  });

  await step("confirmation: dialog with exact arguments, focus on Deny", async () => {
    await page.evaluate(() => window.__sottoMock.open("step1-3"));
    await page.waitForSelector(byId("confirm-dialog"));
    expect((await page.locator(byId("confirm-tool")).textContent()) === "message_send", "tool name");
    const args = await page.locator(byId("confirm-arguments")).textContent();
    expect(args === JSON.stringify({ to: "Ana (+34 600 000 000)", text: "hi" }, null, 2), `arguments shown: ${args}`);
    expect((await focusedTestId()) === "confirm-deny", `focus is on ${await focusedTestId()}`);
    expect(/in (29|30) s/.test(await page.locator(byId("confirm-countdown")).textContent()), "countdown");
    expect((await page.locator(byId("state")).textContent()) === "Needs your OK", "state pill should say Needs your OK");
    await shot("confirmation");
  });

  await step("keyboard: y allows once; the dialog closes and the reply shows", async () => {
    await page.waitForTimeout(ARM_MS + 100);
    await page.keyboard.press("y");
    await page.waitForSelector(byId("confirm-dialog"), { state: "detached" });
    const answers = await calls("confirm_answer");
    expect(JSON.stringify(answers) === JSON.stringify([{ reply: { id: "q-3", answer: "allow-once" } }]), `answers: ${JSON.stringify(answers)}`);
    await page.waitForSelector(byId("reply"));
    expect((await page.locator(byId("reply")).textContent()) === "Sent “hi” to Ana.", "reply text");
    const statuses = await page.locator(byId("live-step")).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
    expect(JSON.stringify(statuses) === JSON.stringify(["ok", "ok", "ok"]), `step statuses: ${statuses}`);
    expect(await page.locator(byId("command-submit")).isEnabled(), "Run should be enabled again");
    expect((await focusedTestId()) === "command-input", "focus should return to the command box");
  });

  await step("hostile tool output is shown as text, never run", async () => {
    const note = await page.locator(`${byId("live-step")}[data-step-id="1"] .step-note`).textContent();
    expect(note.includes('<img src=x onerror="window.__xss=1">'), `step note: ${note}`);
    expect((await page.locator("img").count()) === 0, "no <img> element may exist");
    expect((await page.evaluate(() => window.__xss)) === undefined, "the onerror handler ran");
  });

  await step("history: the new row appears; selecting it shows the detail", async () => {
    await page.waitForSelector(`${byId("history-row")}[data-id="3"]`);
    const first = await page.locator(byId("history-row")).first().getAttribute("data-id");
    expect(first === "3", `newest row first, got ${first}`);
    await page.locator(`${byId("history-row")}[data-id="3"]`).click();
    await page.waitForSelector(`${byId("history-detail")} [data-testid="detail-transcript"]`);
    const detail = await page.locator(byId("history-detail")).textContent();
    expect(detail.includes("send Ana a message saying hi"), "transcript in the detail");
    expect(detail.includes("message_send") && detail.includes("user:allow-once"), "the calls and decisions");
    expect((await page.locator("img").count()) === 0, "no <img> element in the detail either");
    await shot("history-detail");
  });

  await step("history: a voice entry has an audio player", async () => {
    await page.locator(`${byId("history-row")}[data-id="1"]`).click();
    await page.waitForSelector(byId("detail-audio"));
    const src = await page.locator(byId("detail-audio")).getAttribute("src");
    expect(src === `asset://localhost/${encodeURIComponent("/home/user/.local/share/sotto/audio/1.wav")}`, `audio src ${src}`);
  });

  await step("keyboard: Escape denies the next confirmation", async () => {
    await page.locator(byId("command-input")).focus();
    await page.keyboard.type("message Bo please");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${byId("live-step")}[data-step-id="1"][data-status="running"]`);
    await page.evaluate(() => window.__sottoMock.open("step1-4"));
    await page.waitForSelector(byId("confirm-dialog"));
    await page.keyboard.press("Escape");
    await page.waitForSelector(byId("confirm-dialog"), { state: "detached" });
    await page.waitForSelector(`${byId("live-step")}[data-step-id="2"][data-status="skipped"]`);
    const answers = await calls("confirm_answer");
    expect(answers.at(-1).reply.answer === "deny" && answers.at(-1).reply.id === "q-4", `answers: ${JSON.stringify(answers)}`);
    expect((await page.locator(byId("reply")).textContent()) === "I did not send the message to Bo.", "reply after deny");
  });

  await step("cancel: the Cancel button stops a running request", async () => {
    await page.locator(byId("command-input")).fill("message Ana again");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${byId("live-step")}[data-step-id="1"][data-status="running"]`);
    await page.locator(byId("command-cancel")).click();
    await page.waitForSelector(byId("request-error"));
    expect((await page.locator(byId("request-error")).textContent()) === "cancelled", "error text");
    expect((await page.locator(`${byId("live-step")}[data-step-id="1"]`).getAttribute("data-status")) === "skipped", "the running step is stopped");
    expect((await calls("cancel")).length === 1, "cancel was called once");
    expect(await page.locator(byId("command-submit")).isEnabled(), "Run enabled after cancel");
  });

  await step("history: search filters the list (debounced)", async () => {
    await page.locator(byId("history-search")).fill("weather");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-row"]').length === 1);
    expect((await page.locator(byId("history-row")).first().getAttribute("data-id")) === "1", "the weather row");
    const searches = (await calls("history")).map((a) => a.search);
    expect(searches.includes("weather") && !searches.includes("w") && !searches.includes("we"), `searches: ${searches}`);
    await page.locator(byId("history-search")).fill("");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-row"]').length === 5);
  });

  await step("history: delete asks inline, then removes the row", async () => {
    await page.locator(`${byId("history-row")}[data-id="2"]`).click();
    await page.waitForSelector(byId("history-delete"));
    await page.locator(byId("history-delete")).click();
    expect((await page.locator(byId("history-detail")).textContent()).includes("Delete this entry?"), "the inline question");
    await page.locator(byId("history-delete-confirm")).click();
    await page.waitForSelector(`${byId("history-row")}[data-id="2"]`, { state: "detached" });
    expect(JSON.stringify(await calls("history_delete")) === JSON.stringify([{ id: 2 }]), "history_delete args");
  });

  await step("tools tab lists the tools", async () => {
    await page.locator(byId("tab-tools")).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tool-row"]').length === 3);
    const text = await page.locator(byId("tools-list")).textContent();
    expect(text.includes("message_send") && text.includes("always-ask") && text.includes("plugin chat"), "tool fields");
    await shot("tools");
  });

  await step("settings: change, save (an error keeps the edits), download a model, plugins", async () => {
    await page.locator(byId("tab-settings")).click();
    await page.waitForSelector(`${byId("pref-language")} option[value="de"]`, { state: "attached" });
    expect((await page.locator(byId("pref-device")).inputValue()) === "laptop", "the device chosen in the onboarding");
    await page.locator(byId("pref-language")).selectOption("de");
    await page.locator(byId("pref-keep-days")).fill("99999");
    await page.locator(byId("pref-ptt-key")).focus();
    await page.keyboard.press("Control+Alt+KeyK");
    expect((await page.locator(byId("pref-ptt-key")).inputValue()) === "Ctrl+Alt+K", "captured hotkey");
    await page.locator(byId("settings-save")).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="settings-error"]')?.textContent.includes("at most 3650"));
    expect((await page.locator(byId("pref-language")).inputValue()) === "de", "the edits stay after an error");
    await page.locator(byId("pref-keep-days")).fill("7");
    await page.locator(byId("pref-planner-model")).selectOption("qwen2.5-1.5b-q4");
    await page.locator(byId("settings-save")).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="settings-saved"]')?.textContent === "Saved");
    expect((await page.locator(byId("settings-error")).textContent()) === "", "the error is gone");
    expect(await page.locator(byId("restart-needed")).isVisible(), "restart notice after changing a model");
    const saved = (await calls("save_preferences")).at(-1).preferences;
    expect(saved.language === "de" && saved.keep_audio_days === 7 && saved.push_to_talk_key === "Ctrl+Alt+K" && saved.planner_model === "qwen2.5-1.5b-q4", `saved ${JSON.stringify(saved)}`);
    // A model download from the Models section.
    await page.locator(`${byId("model-download")}[data-id="whisper-small"]`).click();
    await page.waitForSelector(`${byId("model-progress")}[data-id="whisper-small"][data-stage="verify"]`);
    const value = await page.locator(`${byId("model-progress")}[data-id="whisper-small"] progress`).evaluate((el) => el.value);
    expect(value === 100, `progress bar at ${value}`);
    await shot("settings");
    await page.evaluate(() => window.__sottoMock.open("download-whisper-small"));
    await page.waitForSelector(`${byId("model-row")}[data-id="whisper-small"][data-state="installed"]`);
    // Plugins.
    await page.locator(`${byId("plugin-enabled")}[data-id="chat"]`).uncheck();
    await page.waitForFunction(() => window.__sottoMock.calls.some(([c, a]) => c === "plugin_set_enabled" && a.id === "chat" && a.enabled === false));
  });

  await step("microphone: hold the button, the live panel shows level, partial text, then the request", async () => {
    await page.locator(byId("tab-history")).click();
    await page.locator(byId("mic-button")).hover();
    await page.mouse.down();
    await page.waitForFunction(() => document.querySelector('[data-testid="partial"]')?.textContent === "set a timer");
    const level = await page.locator(byId("level-meter")).getAttribute("aria-valuenow");
    expect(level === "65", `level meter at ${level}`);
    expect((await page.locator(byId("state")).textContent()) === "Listening", "state pill says Listening");
    await shot("listening");
    await page.mouse.up();
    await page.waitForSelector(byId("reply"));
    expect((await page.locator(byId("live-transcript")).textContent()).includes("set a timer for ten minutes"), "heard text");
    expect((await page.locator(byId("reply")).textContent()) === "Timer set for 10 minutes.", "reply");
    expect((await calls("listen_start")).length === 1 && (await calls("listen_stop")).length === 1, "listen_start and listen_stop once each");
  });

  await step("microphone: the mute toggle mutes and unmutes", async () => {
    await page.locator(byId("mute-toggle")).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="mic-state"]')?.textContent === "Muted");
    expect(await page.locator(byId("mic-button")).isDisabled(), "the mic button is off while muted");
    await page.locator(byId("mute-toggle")).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="mic-state"]')?.textContent === "Mock USB Microphone");
    expect(JSON.stringify(await calls("set_muted")) === JSON.stringify([{ muted: true }, { muted: false }]), "set_muted args");
  });

  await step("dark mode renders", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.locator(byId("tab-history")).click();
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(bg === "rgb(22, 24, 27)", `dark background, got ${bg}`);
    await shot("idle-dark");
  });

  await step("overlay: a spoken request from listening to the reply", async () => {
    const overlay = await context.newPage();
    overlay.setDefaultTimeout(5000);
    overlay.on("pageerror", (error) => pageErrors.push(`overlay: ${error}`));
    overlay.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(`overlay console: ${message.text()}`);
    });
    await overlay.setViewportSize({ width: 420, height: 160 });
    await overlay.addInitScript({ path: join(here, "mock-backend.js") });
    await overlay.goto(`${url}overlay.html`);
    await overlay.waitForFunction(() => document.querySelector('[data-testid="overlay-state"]')?.textContent === "Ready");
    const emit = (event, payload) => overlay.evaluate(([e, p]) => window.__sottoMock.emit(e, p), [event, payload]);
    const base = { detail: null, last_result: null, muted: false, microphone: { kind: "ready", device: "Mic", native: "" } };
    await emit("sotto:status", { ...base, state: "listening" });
    await emit("sotto:voice", { kind: "started" });
    await emit("sotto:voice", { kind: "level", dbfs: -12 });
    await emit("sotto:voice", { kind: "partial", text: "send Ana" });
    expect((await overlay.locator(byId("overlay-state")).textContent()) === "Listening", "listening");
    expect(await overlay.locator(byId("overlay-level")).isVisible(), "the level meter while listening");
    expect((await overlay.locator(byId("overlay-text")).textContent()) === "send Ana", "partial text");
    await emit("sotto:voice", { kind: "heard", utterance: 40, text: "send Ana a message saying hi", audio_ms: 2000, transcribe_ms: 150 });
    await emit("sotto:status", { ...base, state: "acting" });
    await emit("sotto:request", { kind: "recorded", utterance: 40, text: "send Ana a message saying hi" });
    await emit("sotto:request", { kind: "planned", utterance: 40, step: { id: 1, tool: "contacts_lookup", args: {}, deps: [] } });
    await emit("sotto:request", { kind: "planned", utterance: 40, step: { id: 2, tool: "message_send", args: {}, deps: [1] } });
    await emit("sotto:request", { kind: "started", utterance: 40, id: 1, tool: "contacts_lookup", args: {} });
    await emit("sotto:request", { kind: "finished", utterance: 40, id: 1, tool: "contacts_lookup", ok: true, summary: "Ana", ms: 9, approval: null });
    await emit("sotto:request", { kind: "started", utterance: 40, id: 2, tool: "message_send", args: {} });
    await emit("sotto:request", { kind: "finished", utterance: 40, id: 2, tool: "message_send", ok: true, summary: "sent", ms: 60, approval: "user:window" });
    await emit("sotto:request", { kind: "done", utterance: 40, reply: "Sent “hi” to Ana.", ok: true, plan_ms: 400, fast_path: null });
    expect(await overlay.locator(byId("overlay-level")).isHidden(), "no level meter after listening");
    expect((await overlay.locator(byId("overlay-text")).textContent()) === "send Ana a message saying hi", "final text");
    const steps = await overlay.locator(`${byId("overlay-steps")} li`).evaluateAll((rows) => rows.map((r) => `${r.textContent}:${r.getAttribute("data-status")}`));
    expect(JSON.stringify(steps) === JSON.stringify(["✓contacts_lookupdone:ok", "✓message_senddone:ok"]), `steps ${JSON.stringify(steps)}`);
    expect((await overlay.locator(byId("overlay-reply")).textContent()) === "Sent “hi” to Ana.", "reply");
    await overlay.screenshot({ path: join(resultsDir, "overlay.png") });
    await overlay.emulateMedia({ colorScheme: "dark" });
    await overlay.screenshot({ path: join(resultsDir, "overlay-dark.png") });
    await overlay.close();
  });

  await step("no page errors", async () => {
    expect(pageErrors.length === 0, pageErrors.join("\n"));
  });
} finally {
  await context.close();
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

console.log(`e2e: ${passed} passed, ${failures.length} failed; screenshots in test-results/`);
process.exit(failures.length === 0 ? 0 : 1);
