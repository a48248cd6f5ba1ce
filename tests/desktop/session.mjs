// Starts tauri-driver and opens a WebDriver session on the real desktop binary.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Builder } from "selenium-webdriver";
import { artifacts, freePort, root } from "../common.mjs";

export { artifacts, freePort, root };
export const application = process.env.CASEDESK_BINARY ?? join(root, "target/debug/casedesk");

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

/**
 * Kills what is left of the app started with exactly `args`: if the WebDriver could not
 * end the session, the app would otherwise outlive the suite and hold its output open.
 */
function killApp(args) {
  const wanted = [application, ...args].join("\0");
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0$/, "") === wanted) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already, or not ours to read
    }
  }
}

/** The app started with `args`; returns { driver, close }. */
export async function openDesk(args) {
  if (!existsSync(application)) throw new Error(`build the app first: ${application}`);
  // Free ports, so a suite never collides with another WebDriver on this machine.
  const [port, nativePort] = [await freePort(), await freePort()];
  const tauriDriver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, WEBKIT_DISABLE_COMPOSITING_MODE: "1" },
  });
  await waitForPort(port, 20000);
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${port}/`)
    .withCapabilities({ browserName: "wry", "tauri:options": { application, args } })
    .build();
  return {
    driver,
    close: async () => {
      await driver.quit().catch(() => {});
      tauriDriver.kill();
      await new Promise((r) => tauriDriver.once("exit", r));
      killApp(args);
    },
  };
}

/** Brings a control to the middle of the window (sheets scroll) and clicks it. */
export async function press(driver, element) {
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'center' })", element);
  await element.click();
}
