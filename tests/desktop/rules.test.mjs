// Business rules in the real window: dana (German, gold service) is ready; a case for a
// German-speaking gold customer comes in, the rules of the technical case type require
// German and the gold-service skill, the task is offered to her, and the case view says
// which rule did what and shows the case type's links.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { openDesk, artifacts, press } from "./session.mjs";

let desk;
let driver;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-rules-")), "--user", "dana"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

test("a German gold case is routed by the rules and the case view says so", { timeout: 90000 }, async () => {
  await driver.wait(until.elementLocated(By.css("[data-testid=presence]")), 20000);
  await driver.findElement(By.css("[data-testid=presence] option[value=available]")).click();
  await driver.findElement(By.css("[data-testid=on-queue]")).click();

  const created = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    window.__TAURI_INTERNALS__.invoke("execute", { command: { type: "create_case", case_type: "technical",
      intent: "connectivity", customer_id: null, subject: "Router verliert die Verbindung", description: "",
      fields: { device: "Router", language: "de", segment: "gold" }, priority: null, interaction_id: null } })
      .then((r) => done(r.reference), (e) => done("error: " + JSON.stringify(e)));`);
  assert.match(created, /^TEC-\d{6}$/);

  // The offer reaches dana, at the priority the gold rule raised it to.
  const offer = await driver.wait(until.elementLocated(By.css("[data-testid=offer]")), 15000);
  await driver.wait(until.elementTextContains(offer, created), 15000);
  await driver.findElement(By.css("[data-testid=accept]")).click();

  const row = await driver.wait(until.elementLocated(By.xpath(`//td[@class='ref' and text()='${created}']`)), 15000);
  await press(driver, row);
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, "Rule “Gold customers"), 5000);
  const text = await panel.getText();
  assert.match(text, /Rule “The agent speaks the customer's language” applied — Require language: de/);
  assert.match(text, /Rule “Gold customers get a gold-service agent, sooner” applied — Require skill: gold_service at least 3; Raise priority: 3 → 2/);
  // The case type's links, filled in; the CRM link needs a customer, and this case has none.
  assert.match(text, /Service status for this case/);
  assert.doesNotMatch(text, /Customer in the CRM/);
  writeFileSync(join(artifacts, "rules-case-view.png"), await driver.takeScreenshot(), "base64");
});
