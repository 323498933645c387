// End-to-end tests: Debian's Chromium (no browser download) against a real `dcsim serve`
// with the built app, on a port and data directory of their own.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defineConfig } from "@playwright/test";

/** A loopback port nothing listens on now: the system picks it (port 0), so a server
 * left over from another run cannot hold the tests' port. */
function freePort(): string {
  const pick =
    "const s = require('node:net').createServer();" +
    "s.listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });";
  return execFileSync(process.execPath, ["-e", pick], { encoding: "utf8" }).trim();
}

// Set once (UI_E2E_PORT overrides): the config is evaluated again in each worker, which
// must find the same server and data directory.
process.env.UI_E2E_PORT ??= freePort();
export const PORT = Number(process.env.UI_E2E_PORT);
const python = process.env.UI_PYTHON ?? "python";
process.env.UI_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "dcsim-ui-e2e-"));
const dataDir = process.env.UI_E2E_DATA_DIR;

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results/e2e",
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.UI_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
    },
    headless: true,
  },
  webServer: {
    command: `${join(dirname(python), "dcsim")} serve --port ${PORT}`,
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    // The suite signs in with one admin token and makes more than the default 600
    // requests a minute with it (sparklines, live views): the budget is not under test here.
    env: { DCSIM_DATA_DIR: dataDir, DCSIM_LOG_LEVEL: "WARNING", DCSIM_RATE_LIMIT: "off" },
  },
});
