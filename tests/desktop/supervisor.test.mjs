// A supervisor's day in the real window: sam opens the finance team's workbin, chooses
// the billing check bea holds and gives it to himself, takes a waiting task himself
// (this workbin lets people choose), sets a tighter OLA on one, then works the billing check in the case view:
// "Charge is correct" needs a reason, and with one the case closes.
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
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-supervisor-")), "--user", "sam"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

test("a supervisor reassigns from a team workbin, then closes the case", { timeout: 90000 }, async () => {
  await press(driver, await driver.wait(until.elementLocated(By.css("[data-testid=workbins-button]")), 20000));
  const sheet = await driver.wait(until.elementLocated(By.css("[data-testid=workbins]")), 5000);
  await sheet.findElement(By.css("[data-testid=workbin-queue] option[value=Finances_group_B]")).click();
  const row = () => driver.findElement(By.xpath("//*[@data-testid='workbin-tasks']//tr[.//button[text()='FIN-000001']]"));
  await driver.wait(async () => (await driver.findElements(By.xpath("//*[@data-testid='workbin-tasks']//button[text()='FIN-000001']"))).length === 1, 5000);
  await driver.wait(async () => /bea/.test(await (await row()).getText()), 5000, "bea holds the billing check");

  await press(driver, await driver.findElement(By.css("[data-testid=choose-FIN-000001]")));
  // The agents' list comes from the board; wait for sam to be offered as a target.
  const target = await driver.wait(until.elementLocated(By.css("[data-testid=workbin-target] option[value='agent:sam']")), 5000);
  await target.click();
  await press(driver, await driver.findElement(By.css("[data-testid=workbin-reassign]")));
  await driver.wait(until.elementLocated(By.css("[data-testid=workbin-done]")), 5000);
  await driver.wait(async () => /sam/.test(await (await row()).getText()), 5000, "the task is sam's now");
  writeFileSync(join(artifacts, "workbins.png"), await driver.takeScreenshot(), "base64");

  // A tighter OLA for the task he now holds: 2 hours of open time, counted afresh.
  await press(driver, await driver.findElement(By.css("[data-testid=choose-FIN-000001]")));
  const duration = await driver.findElement(By.css("[data-testid=workbin-ola-duration]"));
  await duration.clear();
  await duration.sendKeys("0");
  await press(driver, await driver.findElement(By.css("[data-testid=workbin-set-ola]")));
  const olaProblem = await driver.wait(until.elementLocated(By.css("[data-testid=workbin-ola-problem]")), 5000);
  assert.match(await olaProblem.getText(), /^OLA: must be above 0$/);
  assert.equal(await duration.getAttribute("aria-invalid"), "true");
  await duration.clear();
  await duration.sendKeys("2");
  await press(driver, await driver.findElement(By.css("[data-testid=workbin-set-ola]")));
  await driver.wait(async () => {
    const done = await driver.findElements(By.css("[data-testid=workbin-done]"));
    return done.length === 1 && (await done[0].getText()).includes("OLA of 1 task(s) is now 2 hours");
  }, 5000);

  // The finance workbin lets people choose: sam takes the waiting credit check himself.
  await press(driver, await driver.findElement(By.css("[data-testid=take-BAO-000001]")));
  await driver.wait(async () => {
    const done = await driver.findElements(By.css("[data-testid=workbin-done]"));
    return done.length === 1 && (await done[0].getText()).includes("You took BAO-000001");
  }, 5000);
  await driver.wait(until.elementTextContains(await driver.findElement(By.css("[data-testid=my-work]")), "BAO-000001"), 5000);

  // Sam works it: the outcome that closes needs a reason.
  await press(driver, await (await row()).findElement(By.css("button.link")));
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, "FIN-000001"), 5000);
  const work = await driver.wait(until.elementLocated(By.css("[data-testid=task-work]")), 5000);
  await press(driver, await work.findElement(By.css("[data-testid=outcome-no_error]")));
  const error = await driver.wait(until.elementLocated(By.css("[data-testid=task-work] .field-error")), 5000);
  assert.match(await error.getText(), /needs a reason/);
  await work.findElement(By.css("[data-testid=task-reason]")).sendKeys("The second charge was a pre-authorisation, released on the 3rd");
  await press(driver, await work.findElement(By.css("[data-testid=outcome-no_error]")));
  await driver.wait(until.elementTextContains(panel.findElement(By.css("[data-testid=case-status]")), "Closed"), 5000);
  writeFileSync(join(artifacts, "case-closed.png"), await driver.takeScreenshot(), "base64");
});
