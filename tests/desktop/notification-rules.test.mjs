// An admin writes a notification rule in the app: a template naming a variable that
// does not exist is refused with the reason next to the message, the corrected rule is
// saved and listed, and do-not-disturb holds back the per-kind choices.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { artifacts, openDesk, press as pressIn } from "./session.mjs";

test("an admin defines a rule, sees a bad variable refused next to the message, and sets do-not-disturb", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "casedesk-e2e-rules-"));
  const desk = await openDesk(["--data-dir", dataDir, "--user", "ada"]);
  const { driver } = desk;
  const press = (element) => pressIn(driver, element);
  try {
    const bell = await driver.wait(until.elementLocated(By.css("[data-testid=notifications]")), 20000);
    await bell.click();
    const panel = await driver.wait(until.elementLocated(By.css("[data-testid=notifications-panel]")), 5000);
    const rules = await driver.wait(until.elementLocated(By.css("[data-testid=rules]")), 5000);
    assert.match(await rules.getText(), /customer-case-created/);

    await panel.findElement(By.css("input[placeholder='refund-created-email']")).sendKeys("team-escalations");
    const body = await panel.findElement(By.css("[data-testid=rule-body]"));
    await body.sendKeys("{{ case.refrence }} needs you");
    await press(await panel.findElement(By.css("[data-testid=save-rule]")));
    const error = await driver.wait(until.elementLocated(By.css("[data-testid=body-error]")), 5000);
    const reason = await error.getText();
    assert.match(reason, /unknown variable 'case\.refrence'/);
    assert.match(reason, /reference/);

    await body.clear();
    await body.sendKeys("{{ case.reference }} ({{ case.type }}) needs you, due {{ case.target }}");
    await press(await panel.findElement(By.css("[data-testid=save-rule]")));
    await driver.wait(async () => /team-escalations/.test(await rules.getText()), 5000);
    assert.equal((await driver.findElements(By.css("[data-testid=body-error]"))).length, 0);

    // Preferences: do-not-disturb disables the per-kind choices.
    await press(await panel.findElement(By.css("[data-testid=dnd]")));
    await driver.wait(async () => (await panel.findElement(By.css("[data-testid=dnd]")).isSelected()) === true, 5000);

    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, "notification-rules.png"), await driver.takeScreenshot(), "base64");
  } finally {
    await desk.close();
  }
});
