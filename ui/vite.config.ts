import { defineConfig } from "vitest/config";

// An absolute path next to this file (the build may run from another directory).
const here = (file: string): string => decodeURIComponent(new URL(file, import.meta.url).pathname);

// Tauri serves `dist/` in the app; during `tauri dev` it loads the dev server below.
export default defineConfig({
  base: "./",
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK (Linux) and WebView2 (Windows) both handle ES2021.
    target: "es2021",
    // Two pages: the main window and the overlay (a second, small Tauri window).
    rollupOptions: {
      input: {
        main: here("./index.html"),
        overlay: here("./overlay.html"),
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
    // The machine is shared with Rust builds: one test worker is plenty.
    maxWorkers: 1,
  },
});
