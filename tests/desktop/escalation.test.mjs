// A breached task visibly escalates in the desktop, with desktop notifications: alex
// takes an urgent callback (OLA one minute), lets it run late, and sees it leave their
// work, escalated to the team supervisor, with the notifications in a real dunst.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { By, until } from "selenium-webdriver";
import { openDesk, artifacts } from "./session.mjs";

let desk;
let driver;
let dunst;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dunst = spawn("dunst", [], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-escalation-")), "--user", "alex"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
  dunst?.kill();
});

const text = async (css) => (await driver.findElement(By.css(css))).getText();

function notifications() {
  execFileSync("dunstctl", ["close-all"]);
  return execFileSync("dunstctl", ["history"]).toString();
}

async function acceptOffer(reference) {
  const offer = await driver.wait(until.elementLocated(By.css("[data-testid=offer]")), 15000);
  await driver.wait(until.elementTextContains(offer, reference), 15000);
  await driver.findElement(By.css("[data-testid=accept]")).click();
  await driver.wait(async () => (await driver.findElements(By.css("[data-testid=offer]"))).length === 0, 5000);
}

test("a breached callback escalates out of my work, with notifications", { timeout: 150000 }, async () => {
  await driver.wait(until.elementLocated(By.css("[data-testid=presence]")), 20000);
  await driver.findElement(By.css("[data-testid=presence] option[value=available]")).click();
  await driver.findElement(By.css("[data-testid=on-queue]")).click();
  await acceptOffer("TEC-000002");

  // A customer on hold asks to be called back; the case is opened through the engine.
  const created = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    window.__TAURI_INTERNALS__.invoke("execute", { command: { type: "create_case", case_type: "urgent_callback",
      intent: "call_me_back", customer_id: null, subject: "Call Maria back", description: "", 
      fields: { phone: "+49 30 1234567" }, priority: null, interaction_id: null } })
      .then((r) => done(r.reference), (e) => done("error: " + JSON.stringify(e)));`);
  assert.equal(created, "CB-000001");
  await acceptOffer("CB-000001");
  const work = await driver.findElement(By.css("[data-testid=my-work]"));
  await driver.wait(until.elementTextContains(work, "CB-000001"), 5000);

  // One minute later the OLA is breached: the task escalates to the supervisor.
  await driver.wait(async () => !(await text("[data-testid=my-work]")).includes("CB-000001"), 100000);
  let seen = notifications();
  const deadline = Date.now() + 10000;
  while (!seen.includes("Escalated to Team_Supervisor") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    seen = notifications();
  }
  assert.match(seen, /Task at risk/);
  assert.match(seen, /OLA breached/);
  assert.match(seen, /Escalated to Team_Supervisor/);
  assert.match(seen, /Call the customer back — CB-000001/);

  // The case shows it: the history has the breach and the escalation.
  await driver.findElement(By.xpath("//td[@class='ref' and text()='CB-000001']")).click();
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, "Task escalated"), 5000);
  const history = await panel.getText();
  assert.match(history, /Task breached/);
  assert.match(history, /Team_Supervisor/);
  writeFileSync(join(artifacts, "escalated.png"), await driver.takeScreenshot(), "base64");
});
