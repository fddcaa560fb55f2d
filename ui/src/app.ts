// Builds the window and wires the backend's commands and events to its parts.
import * as api from "./api";
import type { AssistantState } from "./bindings/AssistantState";
import type { ModelProgress } from "./bindings/ModelProgress";
import type { RequestUpdate } from "./bindings/RequestUpdate";
import type { StatusView } from "./bindings/StatusView";
import type { VoiceUpdate } from "./bindings/VoiceUpdate";
import { createCommandBox } from "./command";
import { createConfirmDialog, type ConfirmDialog } from "./confirm";
import { h } from "./dom";
import { errorText, isBusyState } from "./format";
import { createHeader } from "./header";
import { createHistory } from "./history";
import { createLivePanel } from "./live";
import { createMicControls } from "./mic";
import { createOnboarding, type Onboarding } from "./onboarding";
import { createSettings } from "./settings";
import { createTabs } from "./tabs";
import { createTools } from "./tools";

export interface App {
  confirm: ConfirmDialog;
  /** Stops listening to the backend's events. */
  stop(): void;
}

export async function startApp(root: HTMLElement): Promise<App> {
  const mic = createMicControls(showNotice);
  const header = createHeader(mic.mute);
  const live = createLivePanel();
  const history = createHistory();
  const tools = createTools();
  const settings = createSettings();
  let onboarding: Onboarding | null = null;
  const notice = h("p", { className: "notice", testid: "notice", attrs: { role: "alert" } });
  notice.hidden = true;

  let state: AssistantState = "idle";
  let running = false; // a typed request was sent and has not ended yet

  const command = createCommandBox({
    onSubmit(text) {
      live.start(text);
      running = true;
      updateBusy();
      api.submit({ text }).catch((error: unknown) => {
        running = false;
        updateBusy();
        live.showError(`Could not start: ${errorText(error)}`);
        command.restore(text);
      });
    },
    onTyping(text) {
      // Only time is at stake: a failure here shows up, if at all, when the request runs.
      api.prepare({ text }).catch(() => {});
    },
    onCancel() {
      api
        .cancel()
        .catch((error: unknown) => showNotice(`Could not cancel: ${errorText(error)}`))
        .finally(() => {
          running = false;
          updateBusy();
        });
    },
  });

  const tabs = createTabs([
    { id: "history", label: "History", panel: history.element, onShow: () => void history.refresh() },
    { id: "tools", label: "Tools", panel: tools.element, onShow: () => void tools.load() },
    { id: "settings", label: "Settings", panel: settings.element, onShow: () => void settings.load(), onHide: () => settings.hide() },
  ]);

  const main = h("main", { className: "app-main" }, notice, h("div", { className: "command-row" }, command.element, mic.button), live.element, tabs.element);
  root.replaceChildren(header.element, main);

  const confirm = createConfirmDialog({
    answer: (reply) => api.confirmAnswer({ reply }),
    background: root,
    onError: showNotice,
  });

  function showNotice(message: string): void {
    notice.textContent = message;
    notice.hidden = false;
  }

  function updateBusy(): void {
    command.setBusy(running || isBusyState(state));
  }

  function onStatus(status: StatusView): void {
    state = status.state;
    header.setStatus(status);
    mic.setStatus(status);
    updateBusy();
    if (status.state !== "listening") live.stopListening();
    if (status.state === "idle") live.showIdle(status.last_result);
  }

  function onVoice(update: VoiceUpdate): void {
    // Level events also flow during a microphone test, when nothing is being recorded: the
    // live panel only shows them while its listening part is up (after `started`).
    live.voice(update);
    settings.voice(update);
    onboarding?.voice(update);
  }

  function onModel(progress: ModelProgress): void {
    settings.modelProgress(progress);
    onboarding?.modelProgress(progress);
  }

  async function maybeOnboard(): Promise<void> {
    let view;
    try {
      view = await api.onboarding();
    } catch (error) {
      showNotice(`Could not check the first-run setup: ${errorText(error)}`);
      return;
    }
    if (view.done) return;
    const shown = createOnboarding({
      view,
      onClose(error) {
        onboarding = null;
        header.element.inert = false;
        main.inert = false;
        if (error) showNotice(error);
        command.focus();
      },
    });
    onboarding = shown;
    // The rest of the window stays out of reach (and out of the screen reader's way) meanwhile.
    header.element.inert = true;
    main.inert = true;
    root.append(shown.element);
    shown.focus();
  }

  function onRequest(update: RequestUpdate): void {
    live.apply(update);
    if (update.kind === "done" || update.kind === "failed") {
      running = false;
      updateBusy();
    }
    if (update.kind === "recorded" || update.kind === "done" || update.kind === "failed") void history.refresh();
  }

  const onSlash = (event: KeyboardEvent): void => {
    // "/" jumps to the command box from anywhere but a text field.
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || confirm.showing()) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)) return;
    event.preventDefault();
    command.focus();
  };
  document.addEventListener("keydown", onSlash);

  // Listen first, then read the current state, so nothing falls between the two.
  const unlisten = await Promise.all([
    api.onStatus(onStatus),
    api.onRequest(onRequest),
    api.onConfirm((prompt) => confirm.push(prompt)),
    api.onConfirmClosed((closed) => confirm.closed(closed)),
    api.onVoice(onVoice),
    api.onModel(onModel),
  ]);

  tabs.show("history");
  command.focus();

  const [status, pending] = await Promise.allSettled([api.status(), api.pendingConfirmations()]);
  if (status.status === "fulfilled") onStatus(status.value);
  else showNotice(`Could not reach Sotto: ${errorText(status.reason)}`);
  if (pending.status === "fulfilled") pending.value.forEach((prompt) => confirm.push(prompt));
  await maybeOnboard();

  return {
    confirm,
    stop() {
      document.removeEventListener("keydown", onSlash);
      settings.hide();
      for (const fn of unlisten) void fn();
    },
  };
}
