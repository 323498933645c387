/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build lands inside the Python package, so the wheel ships it (specs/016-ui.md).
// (Vite resolves it against this directory.)
const outDir = "../src/dcsim_ui/static";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir, emptyOutDir: true, assetsDir: "assets" },
  server: {
    // `npm run dev` against a local `dcsim serve` on its default port.
    proxy: {
      "^/(sim|cmdb|itsm|drift|patch|events|ws|plugins|healthz|readyz|tokens|schema|auth|metrics|ucs|ansible)": {
        target: "http://127.0.0.1:8000",
        ws: true,
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    // A busy CI runner (two cores, many envs at once) takes longer than the 5 s default.
    testTimeout: 20_000,
  },
});
