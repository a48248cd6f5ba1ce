// The toolbar by keyboard, in the real window: "?" lists the shortcuts, Escape closes
// them, "/" goes to the search box, which finds the cases alex may see by reference or
// customer (not another team's), and Enter opens the first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, Key, until } from "selenium-webdriver";
import { openDesk, artifacts } from "./session.mjs";

let desk;
let driver;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-toolbar-")), "--user", "alex"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
});

const keys = (...k) => driver.actions().sendKeys(...k).perform();

test("shortcuts are listed on ? and closed with Escape", { timeout: 60000 }, async () => {
  await driver.wait(until.elementLocated(By.css("[data-testid=my-work]")), 20000);
  await keys("?");
  const list = await driver.wait(until.elementLocated(By.css("[data-testid=shortcuts]")), 5000);
  assert.match(await list.getText(), /Search cases/);
  assert.match(await list.getText(), /On Queue \/ Off Queue/);
  writeFileSync(join(artifacts, "shortcuts.png"), await driver.takeScreenshot(), "base64");
  await keys(Key.ESCAPE);
  await driver.wait(async () => (await driver.findElements(By.css("[data-testid=shortcuts]"))).length === 0, 5000);
});

test("the search box finds what alex may see, by customer or reference", { timeout: 60000 }, async () => {
  await keys("/");
  const search = await driver.findElement(By.css("[data-testid=search]"));
  assert.equal(await driver.executeScript("return document.activeElement.dataset.testid"), "search", "/ focuses the search");
  await search.sendKeys("Maria");
  const results = await driver.wait(until.elementLocated(By.css("[data-testid=search-results]")), 5000);
  await driver.wait(until.elementTextContains(results, "TEC-000001"), 5000);
  writeFileSync(join(artifacts, "search.png"), await driver.takeScreenshot(), "base64");

  // Bea's billing case is another team's work: alex does not find it.
  await search.clear();
  await search.sendKeys("FIN-000001");
  await driver.wait(until.elementTextContains(await driver.findElement(By.css("[data-testid=search-results]")), "No case matches"), 5000);

  await search.clear();
  await search.sendKeys("TEC-000001");
  await driver.wait(until.elementTextContains(await driver.findElement(By.css("[data-testid=search-results]")), "TEC-000001"), 5000);
  await search.sendKeys(Key.ENTER);
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, "TEC-000001"), 5000);
});

test("the desk switches between light and dark", { timeout: 60000 }, async () => {
  const background = () => driver.executeScript("return getComputedStyle(document.body).backgroundColor");
  // The choice is kept on this machine across runs: start from the light theme.
  if ((await driver.executeScript("return document.documentElement.dataset.theme")) === "dark") {
    await driver.findElement(By.css("[data-testid=theme-button]")).click();
  }
  const light = await background();
  await driver.findElement(By.css("[data-testid=theme-button]")).click();
  assert.equal(await driver.executeScript("return document.documentElement.dataset.theme"), "dark");
  const dark = await background();
  assert.notEqual(dark, light);
  const [r, g, b] = dark.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 150, `a dark background: ${dark}`);
  writeFileSync(join(artifacts, "dark.png"), await driver.takeScreenshot(), "base64");
  await driver.findElement(By.css("[data-testid=theme-button]")).click();
  assert.equal(await background(), light);
});
