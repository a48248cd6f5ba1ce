// Working tasks in the case view, in the real window: bea goes Available and On Queue,
// takes a new refund's form from her team's workbin with "Next task" (the engine picks,
// no cherry picking), fills it with one invalid then valid amount
// (the engine's error beside the field), and submits it for approval; then she escalates
// her billing check by hand (a reason is needed) and leaves a note.
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
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-work-")), "--user", "bea"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

const invoke = (command) =>
  driver.executeAsyncScript(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke("execute", { command: arguments[0] })
       .then((r) => done(r.reference ?? "ok"), (e) => done("error: " + JSON.stringify(e)));`,
    command,
  );

const myWork = () => driver.findElement(By.css("[data-testid=my-work]"));

async function openFromMyWork(reference) {
  await driver.wait(until.elementTextContains(await myWork(), reference), 10000);
  const item = await (await myWork()).findElement(By.xpath(`.//button[contains(., '${reference}')]`));
  await press(driver, item);
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, reference), 5000);
  return panel;
}

test("an offered form task is filled, refused once, then submitted", { timeout: 90000 }, async () => {
  await driver.wait(until.elementLocated(By.css("[data-testid=presence]")), 20000);
  const reference = await invoke({
    type: "create_case",
    case_type: "refund",
    intent: "refund_request",
    customer_id: null,
    subject: "Refund for a broken kettle",
    description: "",
    fields: {},
    priority: null,
    interaction_id: null,
  });
  assert.match(reference, /^RFD-/);

  // Available and On Queue; her team's queue is a workbin, so she takes the next task
  // (the engine's pick) until the new refund is hers.
  await driver.findElement(By.css("[data-testid=presence] option[value=available]")).click();
  await press(driver, await driver.findElement(By.css("[data-testid=on-queue]")));
  for (let pulls = 0; !(await (await myWork()).getText()).includes(reference); pulls++) {
    assert.ok(pulls < 5, "the refund's form comes from the workbin");
    await press(driver, await driver.findElement(By.css("[data-testid=next-task]")));
    await driver.sleep(700);
  }

  const panel = await openFromMyWork(reference);
  const work = await driver.wait(until.elementLocated(By.css("[data-testid=task-work]")), 5000);
  assert.match(await work.getText(), /Refund details/);
  // The plan's stages, the current one marked.
  const current = await panel.findElement(By.css("[data-testid=case-stages] [aria-current=step]"));
  assert.equal(await current.getText(), "Capture");
  await work.findElement(By.css("[data-testid=field-amount]")).sendKeys("0");
  // Checked as it is typed: the engine's rule appears beside the field before any submit.
  const live = await driver.wait(until.elementLocated(By.css("[data-testid=problem-amount]")), 5000);
  assert.match(await live.getText(), /at least 0\.01/);
  await work.findElement(By.css("[data-testid=field-iban]")).sendKeys("DE89370400440532013000");
  await work.findElement(By.css("[data-testid=field-reason] option[value='Returned goods']")).click();
  // A date control takes its value as the page sets it (typing differs per platform).
  await driver.executeScript(
    `const input = arguments[0]; input.value = "2026-10-02"; input.dispatchEvent(new Event("input", { bubbles: true }));`,
    await work.findElement(By.css("[data-testid=field-payment_date]")),
  );
  await press(driver, await work.findElement(By.css("[data-testid=outcome-submit]")));
  const error = await driver.wait(until.elementLocated(By.css("[data-testid=task-work] .field-error")), 5000);
  assert.match(await error.getText(), /0\.01/, "the amount's rule is named beside it");
  writeFileSync(join(artifacts, "task-form-error.png"), await driver.takeScreenshot(), "base64");

  const amount = await work.findElement(By.css("[data-testid=field-amount]"));
  await amount.clear();
  await amount.sendKeys("59");
  await driver.wait(async () => (await work.findElements(By.css("[data-testid=problem-amount]"))).length === 0, 5000, "a valid amount clears its rule");
  await press(driver, await work.findElement(By.css("[data-testid=outcome-submit]")));
  // Submitted: the form is gone, the case moves on to approval.
  await driver.wait(until.elementTextContains(panel.findElement(By.css("[data-testid=case-stage]")), "Approval"), 5000);
  await driver.wait(
    async () => (await panel.findElement(By.css("[data-testid=case-stages] [aria-current=step]")).getText()) === "Approval",
    5000,
  );
  assert.equal((await driver.findElements(By.css("[data-testid=task-work]"))).length, 0);
  writeFileSync(join(artifacts, "task-submitted.png"), await driver.takeScreenshot(), "base64");
});

test("a task is escalated by hand only with a reason; a note stays on the case", { timeout: 60000 }, async () => {
  // Bea's billing check of FIN-000001 (assigned to her by the demo).
  await openFromMyWork("FIN-000001");
  const work = await driver.wait(until.elementLocated(By.css("[data-testid=task-work]")), 5000);
  await press(driver, await work.findElement(By.css("[data-testid=escalate]")));
  const error = await driver.wait(until.elementLocated(By.css("[data-testid=task-work] .field-error")), 5000);
  assert.match(await error.getText(), /reason/i);
  await work.findElement(By.css("[data-testid=task-reason]")).sendKeys("Customer disputes a charge from 2019; needs compliance");
  await press(driver, await work.findElement(By.css("[data-testid=escalate]")));
  await driver.wait(async () => (await driver.findElements(By.css("[data-testid=task-work]"))).length === 0, 5000);
  await driver.wait(async () => !(await (await myWork()).getText()).includes("FIN-000001"), 5000, "it left my work");

  await driver.findElement(By.css("[data-testid=note-body]")).sendKeys("Escalated to compliance; customer told.");
  await press(driver, await driver.findElement(By.css("[data-testid=add-note]")));
  const notes = await driver.findElement(By.css("[data-testid=notes]"));
  await driver.wait(until.elementTextContains(notes, "Escalated to compliance"), 5000);
  writeFileSync(join(artifacts, "task-escalated.png"), await driver.takeScreenshot(), "base64");
});
