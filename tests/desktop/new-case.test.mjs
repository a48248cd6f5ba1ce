// An agent types what the customer wants; the first suggestion is the right case type
// and intent, picking it fills the form, a bad invoice number is refused next to its
// field, and the corrected case is created for the customer found, with the call linked,
// its reference shown at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { artifacts, openDesk, press as pressIn } from "./session.mjs";

test("typing 'my card was charged twice' suggests Finance / Billing dispute first", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "casedesk-e2e-new-case-"));
  const desk = await openDesk(["--data-dir", dataDir, "--user", "alex"]);
  const { driver } = desk;
  const press = (element) => pressIn(driver, element);
  try {
    await press(await driver.wait(until.elementLocated(By.css("[data-testid=new-case-button]")), 20000));
    const sheet = await driver.wait(until.elementLocated(By.css("[data-testid=new-case]")), 5000);
    await sheet.findElement(By.css("[data-testid=new-case-description]")).sendKeys("my card was charged twice");
    const first = await driver.wait(until.elementLocated(By.css("[data-testid=suggestion-0]")), 5000);
    await driver.wait(async () => /Finance \/ Billing dispute/.test(await first.getText()), 5000);
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, "new-case-suggestions.png"), await driver.takeScreenshot(), "base64");

    await press(first);
    const type = await sheet.findElement(By.css("[data-testid=new-case-type]"));
    assert.equal(await type.getAttribute("value"), "finance");
    assert.equal(await sheet.findElement(By.css("[data-testid=new-case-intent]")).getAttribute("value"), "billing_dispute");
    assert.equal(await sheet.findElement(By.css("[data-testid=new-case-subject]")).getAttribute("value"), "my card was charged twice");

    // The customer, found by name as typed, and the call the agent is on, linked.
    await sheet.findElement(By.css("[data-testid=new-case-customer-search]")).sendKeys("maria");
    await press(await driver.wait(until.elementLocated(By.css("[data-testid=customer-match]")), 5000));
    assert.match(await sheet.findElement(By.css("[data-testid=new-case-customer]")).getText(), /Maria Keller/);
    await sheet.findElement(By.css("[data-testid=new-case-channel] option[value=voice]")).click();
    await sheet.findElement(By.css("[data-testid=new-case-contact-summary]")).sendKeys("Called about a double charge");

    const invoice = await sheet.findElement(By.css("[data-testid=field-invoice_number]"));
    await invoice.sendKeys("12345");
    await press(await sheet.findElement(By.css("[data-testid=create-case]")));
    const error = await driver.wait(until.elementLocated(By.css("[data-testid=new-case] .field-error")), 5000);
    assert.match(await error.getText(), /INV- followed by 6 digits/);
    writeFileSync(join(artifacts, "new-case-field-error.png"), await driver.takeScreenshot(), "base64");

    await invoice.clear();
    await invoice.sendKeys("INV-204511");
    await sheet.findElement(By.css("[data-testid=field-disputed_amount]")).sendKeys("49.90");
    await press(await sheet.findElement(By.css("[data-testid=create-case]")));
    const notice = await driver.wait(until.elementLocated(By.css(".notice")), 5000);
    assert.match(await notice.getText(), /Case FIN-\d{6} created/);
    const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
    await driver.wait(async () => /FIN-\d{6}/.test(await panel.getText()), 5000);
    // Recorded with the case: once, though the first attempt was refused.
    const contacts = await panel.findElements(By.css("[data-testid=interactions] li"));
    assert.equal(contacts.length, 1);
    assert.match(await contacts[0].getText(), /Voice · Called about a double charge/);
    assert.match(await panel.findElement(By.css("[data-testid=customer-profile]")).getText(), /Maria Keller/);
    writeFileSync(join(artifacts, "new-case-created.png"), await driver.takeScreenshot(), "base64");
  } finally {
    // The last state of the window, for a failure's post-mortem.
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, "new-case-last.png"), await driver.takeScreenshot(), "base64");
    await desk.close();
  }
});
