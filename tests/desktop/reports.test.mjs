// Reports in the real window: sam (supervisor) opens Reports on the demo workspace, sees
// the board follow a new case live, the figures and the volume chart, lists the cases behind today's volume, opens one, and
// exports every report as CSV files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { openDesk, artifacts, press } from "./session.mjs";

let desk;
let driver;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-reports-")), "--user", "sam"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

test("a supervisor reads the reports, drills down and exports CSV", { timeout: 90000 }, async () => {
  const button = await driver.wait(until.elementLocated(By.css("[data-testid=reports-button]")), 20000);
  await button.click();
  const sla = await driver.wait(until.elementLocated(By.css("[data-testid=report-sla]")), 10000);
  assert.match(await sla.getText(), /cases within SLA/);

  // The board follows the work: a case opened now shows in it without reloading.
  const board = await driver.wait(until.elementLocated(By.css("[data-testid=board]")), 10000);
  const openCases = async () => Number((await board.findElement(By.css(".kpi strong")).getText()).trim());
  const before = await openCases();
  assert.ok(before >= 1, `the demo has open cases (${before})`);
  const made = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    window.__TAURI_INTERNALS__.invoke("execute", { command: { type: "create_case", case_type: "technical",
      intent: null, customer_id: null, subject: "Line down", description: "", fields: { device: "Modem" },
      priority: null, interaction_id: null } }).then((r) => done(r.reference), (e) => done("error: " + JSON.stringify(e)));`);
  assert.match(made, /^TEC-/);
  await driver.wait(async () => (await openCases()) === before + 1, 6000, "the board counts the new case");
  // The historical figures are read again on demand.
  await driver.findElement(By.css("[data-testid=report-show]")).click();
  await driver.sleep(1000);

  // Today's row of the volume table counts the demo's cases, and the chart is drawn.
  const today = new Date().toISOString().slice(0, 10);
  const volume = await driver.findElement(By.css("[data-testid=report-volume]"));
  const row = await volume.findElement(By.xpath(`.//tr[td[1][text()='${today}']]`));
  const cells = await row.findElements(By.css("td"));
  const opened = Number(await cells[1].getText());
  assert.ok(opened >= 7, `the demo opened its cases today (${opened})`);
  const canvas = await driver.findElements(By.css("[data-testid=report-chart] canvas"));
  assert.equal(canvas.length, 1, "the volume chart is drawn");
  writeFileSync(join(artifacts, "reports.png"), await driver.takeScreenshot(), "base64");
  // Every report with figures has its chart.
  for (const id of ["chart-sla", "chart-status", "chart-stage", "chart-aging"]) {
    const drawn = await driver.findElements(By.css(`[data-testid=${id}] canvas`));
    assert.equal(drawn.length, 1, `${id} is drawn`);
  }
  await driver.executeScript("document.querySelector('[data-testid=chart-status]').scrollIntoView()");
  writeFileSync(join(artifacts, "reports-charts.png"), await driver.takeScreenshot(), "base64");

  // The cases behind the figure: as many as it counts; one opens in the case view.
  await press(driver, await row.findElement(By.css("button.drill")));
  const list = await driver.wait(until.elementLocated(By.css("[data-testid=report-drill]")), 5000);
  const items = await list.findElements(By.css("li"));
  assert.equal(items.length, opened);
  writeFileSync(join(artifacts, "reports-drill.png"), await driver.takeScreenshot(), "base64");
  const first = await items[0].findElement(By.css("button"));
  const reference = await first.getText();
  await press(driver, first);
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, reference), 5000);

  // Export: every report as a CSV file, with the same figures.
  await driver.findElement(By.css("[data-testid=reports-button]")).click();
  await press(driver, await driver.wait(until.elementLocated(By.css("[data-testid=report-export]")), 5000));
  const saved = await driver.wait(until.elementLocated(By.css("[data-testid=report-exported]")), 10000);
  const folder = (await saved.getText()).replace(/^Saved to /, "");
  const files = readdirSync(folder).sort();
  assert.ok(files.includes("volume-by-day.csv") && files.includes("sla-adherence.csv"), files.join(", "));
  const csv = readFileSync(join(folder, "volume-by-day.csv"), "utf8");
  assert.match(csv, new RegExp(`^${today},${opened},`, "m"));

  // By week: the workspace is new, so this week opened what today did.
  await press(driver, await driver.findElement(By.css("[data-testid=volume-by-week]")));
  const weekly = await driver.wait(until.elementLocated(By.css("[data-testid=report-volume-weekly]")), 5000);
  const weekOpened = Number(await weekly.findElement(By.xpath(".//tbody/tr[last()]/td[2]")).getText());
  assert.equal(weekOpened, opened, "the week's figure adds up its days");
  writeFileSync(join(artifacts, "reports-weekly.png"), await driver.takeScreenshot(), "base64");
  await press(driver, await driver.findElement(By.css("[data-testid=volume-by-day]")));

  // One agent's work: only the cases with a task alex held count.
  const agentFilter = await driver.findElement(By.css("[data-testid=report-agent]"));
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'center' })", agentFilter);
  await agentFilter.findElement(By.css("option[value=alex]")).click();
  await press(driver, await driver.findElement(By.css("[data-testid=report-show]")));
  await driver.wait(async () => {
    const r = await driver.findElements(By.xpath(`//*[@data-testid='report-volume']//tr[td[1][text()='${today}']]/td[2]`));
    return r.length === 1 && Number(await r[0].getText()) < opened;
  }, 5000, "the agent filter narrows today's volume");
});
