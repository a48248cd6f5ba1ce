// The real desktop binary in a real window (Xvfb), driven over WebDriver through
// tauri-driver and WebKitWebDriver: the first window lists the demo case types and
// cases that the engine seeded into a fresh SQLite workspace.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { openDesk, artifacts } from "./session.mjs";

const dataDir = mkdtempSync(join(tmpdir(), "casedesk-e2e-"));
let desk;
let driver;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  desk = await openDesk(["--data-dir", dataDir]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

test("the first window lists the demo case types and cases", async () => {
  const types = await driver.wait(until.elementLocated(By.css("[data-testid=case-types] li")), 20000);
  assert.ok(types);
  const names = await Promise.all((await driver.findElements(By.css("[data-testid=case-types] .name"))).map((e) => e.getText()));
  assert.deepEqual(names.sort(), ["Business account opening", "Finance", "Refund", "Replacement", "Technical", "Urgent callback"]);
  const refs = await Promise.all((await driver.findElements(By.css("[data-testid=cases] .ref"))).map((e) => e.getText()));
  assert.equal(refs.length, 7);
  assert.ok(refs.includes("TEC-000001") && refs.includes("BAO-000001"), refs.join(","));
  assert.equal(await driver.findElement(By.css("[data-testid=current-user]")).getText(), "Sam Supervisor");
});

test("a case opens with its tasks and history, read from the engine", async () => {
  const cell = await driver.findElement(By.xpath("//td[@class='ref' and text()='TEC-000001']"));
  await cell.click();
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel] h2")), 10000);
  await driver.wait(until.elementTextContains(panel, "TEC-000001"), 10000);
  const text = await driver.findElement(By.css("[data-testid=case-panel]")).getText();
  assert.match(text, /Diagnose the fault/);
  assert.match(text, /In progress · alex/);
  assert.match(text, /Case created/);
  writeFileSync(join(artifacts, "desk.png"), await driver.takeScreenshot(), "base64");
});

test("engine errors cross IPC as {code, message}", async () => {
  const result = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    window.__TAURI_INTERNALS__.invoke("execute", { command: { type: "change_case_status",
      case_id: "00000000-0000-7000-8000-000000000000", status: "resolved", reason: null } })
      .then((r) => done({ ok: r }), (e) => done({ err: e }));`);
  assert.deepEqual(result, { err: { code: "not_found", message: "case '00000000-0000-7000-8000-000000000000' not found" } });
});
