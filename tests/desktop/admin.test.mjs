// An admin's configuration in the real window: ada edits the Technical case type's TOML
// (a wrong value is refused with its line, then the next version is published), gives
// the office calendar a badly written Monday (refused beside the day, then right), adds
// a skill, creates a user and gives her a routing profile, tightens a queue, and imports
// customers from a CSV file (a bad row reported by its line). Every
// refusal is the engine's, and nothing refused is saved.
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
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-admin-")), "--user", "ada"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

const byTest = (id) => By.css(`[data-testid=${id}]`);
const found = (id, ms = 5000) => driver.wait(until.elementLocated(byTest(id)), ms);
/** Sets a field's whole value as typing would (textareas would append otherwise). */
async function typeInto(id, value) {
  const field = await found(id);
  await driver.executeScript(
    `arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event("input", { bubbles: true }));`,
    field,
    value,
  );
}
const textOf = async (id) => (await found(id)).getText();

test("an admin edits case types, calendars, skills, users and queues in the app", { timeout: 120000 }, async () => {
  try {
    await configure();
  } finally {
    // The last state of the window, for a failure's post-mortem.
    writeFileSync(join(artifacts, "admin-last.png"), await driver.takeScreenshot(), "base64");
  }
});

async function configure() {
  await press(driver, await found("admin-button", 20000));
  const sheet = await found("admin");

  // Case type: the loader's error names the line; the fixed file becomes version 2.
  await press(driver, await found("case-type-technical"));
  const source = await (await found("case-type-source")).getAttribute("value");
  assert.match(source, /^default_priority = 3$/m);
  await typeInto("case-type-source", source.replace(/^default_priority = 3$/m, 'default_priority = "high"'));
  await press(driver, await found("case-type-publish"));
  assert.match(await textOf("case-type-problem"), /^Line 6: /);
  writeFileSync(join(artifacts, "admin-case-type-error.png"), await driver.takeScreenshot(), "base64");
  await typeInto("case-type-source", source.replace(/^name = "Technical"$/m, 'name = "Technical support"'));
  await press(driver, await found("case-type-publish"));
  assert.match(await textOf("case-type-done"), /Technical support version 2/);
  assert.match(await textOf("case-type-technical"), /Technical support\s*v2/);

  // Calendar: Monday written "9-17" is refused beside Monday; "09:00-17:00" is saved.
  await press(driver, await found("admin-tab-calendars"));
  await press(driver, await found("calendar-office"));
  await typeInto("calendar-hours-mon", "9-17");
  await press(driver, await found("calendar-save"));
  assert.match(await textOf("calendar-problem"), /'9' must be a time written HH:MM/);
  assert.equal(await (await found("calendar-hours-mon")).getAttribute("aria-invalid"), "true");
  await typeInto("calendar-hours-mon", "09:00-17:00");
  await press(driver, await found("calendar-save"));
  await found("calendar-done");
  await press(driver, await found("admin-tab-queues"));
  await press(driver, await found("admin-tab-calendars"));
  await press(driver, await found("calendar-office"));
  assert.equal(await (await found("calendar-hours-mon")).getAttribute("value"), "09:00-17:00", "the saved hours are read back");

  // Skills: a name with a space is refused with its line; a good one is added.
  await press(driver, await found("admin-tab-skills"));
  const skills = await (await found("skills-text")).getAttribute("value");
  await typeInto("skills-text", `${skills}\ntwo words`);
  await press(driver, await found("skills-save"));
  assert.match(await textOf("skills-problem"), /two words.*lower-case/);
  await typeInto("skills-text", `${skills}\nspanish`);
  await press(driver, await found("skills-save"));
  await found("skills-done");

  // Users: a new agent on the finance team, then her routing profile.
  await press(driver, await found("admin-tab-staff"));
  await press(driver, await found("user-new"));
  await typeInto("user-id", "erin");
  await typeInto("user-name", "Erin Agent");
  await typeInto("user-teams", "Finances_group_B");
  await press(driver, await found("user-role-agent")); // the default role, taken away
  await press(driver, await found("user-save"));
  assert.match(await textOf("user-problem"), /at least one role/);
  await press(driver, await found("user-role-agent"));
  await press(driver, await found("user-save"));
  await driver.wait(until.elementTextContains(await found("user-done"), "Erin Agent"), 5000);
  assert.match(await textOf("user-erin"), /Erin Agent/);
  await typeInto("profile-skills", "klingon:3");
  await press(driver, await found("profile-save"));
  assert.match(await textOf("profile-problem"), /klingon: is not a defined skill/);
  await typeInto("profile-skills", "spanish:4");
  await press(driver, await found("profile-save"));
  await driver.wait(until.elementTextContains(await found("user-done"), "routing profile of Erin Agent"), 5000);
  writeFileSync(join(artifacts, "admin-users.png"), await driver.takeScreenshot(), "base64");

  // Queue: an offer timeout of 0 is refused beside it.
  await press(driver, await found("admin-tab-queues"));
  const firstQueue = await sheet.findElement(By.css(".admin-list button"));
  await press(driver, firstQueue);
  await typeInto("queue-alert-timeout", "0");
  await press(driver, await found("queue-save"));
  assert.match(await textOf("queue-problem"), /at least 1 second/);
  await typeInto("queue-alert-timeout", "45");
  await press(driver, await found("queue-save"));
  await found("queue-done");
  writeFileSync(join(artifacts, "admin-queue.png"), await driver.takeScreenshot(), "base64");

  // Customers from a CSV file: the good rows are imported, the bad one is reported by line.
  await press(driver, await found("admin-tab-customers"));
  const file = join(mkdtempSync(join(tmpdir(), "casedesk-e2e-csv-")), "customers.csv");
  writeFileSync(file, "name,email,external_id,segment\nLin Wu,lin@example.com,CRM-7,gold\nNo Mail,not-an-address,CRM-8,\n");
  await (await found("import-file")).sendKeys(file);
  await press(driver, await found("import-run"));
  await driver.wait(until.elementTextContains(await found("import-report"), "1 new, 0 changed, 1 left out"), 5000);
  assert.match(await textOf("import-rejected"), /line 3: email: must be an email address/);
  writeFileSync(join(artifacts, "admin-customers.png"), await driver.takeScreenshot(), "base64");

  // The desk's own list of case types shows the new name.
  await press(driver, await sheet.findElement(By.css("button.close")));
  await driver.wait(until.elementLocated(By.xpath("//*[contains(@class,'case-types')]//*[contains(text(),'Technical support')]")), 5000);
}
