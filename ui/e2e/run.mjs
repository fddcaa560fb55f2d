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

  await step("idle window: Ready, history rows, command box focused", async () => {
    await page.waitForFunction(() => document.querySelector('[data-testid="state"]')?.textContent === "Ready");
    await page.waitForSelector(`${byId("history-row")}[data-id="2"]`);
    expect((await page.locator(byId("history-row")).count()) === 2, "expected the 2 seeded history rows");
    expect((await focusedTestId()) === "command-input", "the command box should have focus");
    expect(await page.locator(byId("command-cancel")).isHidden(), "Cancel should be hidden when idle");
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

  await step("dark mode renders", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.locator(byId("tab-history")).click();
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(bg === "rgb(22, 24, 27)", `dark background, got ${bg}`);
    await shot("idle-dark");
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
