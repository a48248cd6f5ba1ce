// Routing in the real desktop: the agent goes Available and On Queue, routing pushes a
// task, the offer shows with a countdown, and accepting puts it in "My work".
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
// A real notification server (dunst) on this session's D-Bus.
let dunst;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dunst = spawn("dunst", [], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  // Alex owns TEC-000002, whose diagnosis waits in a push queue of the demo.
  desk = await openDesk(["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-routing-")), "--user", "alex"]);
  driver = desk.driver;
});

after(async () => {
  await desk?.close();
  dunst?.kill();
});

const text = async (css) => (await driver.findElement(By.css(css))).getText();

test("presence, On Queue and routing status show in the toolbar", async () => {
  await driver.wait(until.elementLocated(By.css("[data-testid=presence]")), 20000);
  assert.equal(await text("[data-testid=on-queue]"), "Off Queue");
  assert.equal(await text("[data-testid=routing-status]"), "OFF QUEUE");
  await driver.findElement(By.css("[data-testid=presence] option[value=available]")).click();
  await driver.wait(async () => (await text("[data-testid=presence]")) !== "" && (await driver.findElement(By.css("[data-testid=presence]")).getAttribute("value")) === "available", 5000);
  assert.equal(await text("[data-testid=routing-status]"), "OFF QUEUE", "available but off queue");
});

test("going On Queue brings an offer with a countdown; accepting makes it my work", async () => {
  await driver.findElement(By.css("[data-testid=on-queue]")).click();
  const offer = await driver.wait(until.elementLocated(By.css("[data-testid=offer]")), 10000);
  const card = await offer.getText();
  assert.match(card, /Diagnose the fault/);
  assert.match(card, /TEC-000002/);
  const first = Number((await text("[data-testid=countdown]")).replace("s", ""));
  assert.ok(first > 20 && first <= 30, `countdown starts near the 30 s alert: ${first}`);
  await driver.sleep(2200);
  const later = Number((await text("[data-testid=countdown]")).replace("s", ""));
  assert.ok(later < first, `countdown runs: ${first} -> ${later}`);
  assert.equal(await text("[data-testid=routing-status]"), "INTERACTING");
  writeFileSync(join(artifacts, "offer.png"), await driver.takeScreenshot(), "base64");
  await driver.findElement(By.css("[data-testid=accept]")).click();
  await driver.wait(async () => (await driver.findElements(By.css("[data-testid=offer]"))).length === 0, 5000);
  await driver.wait(until.elementTextContains(await driver.findElement(By.css("[data-testid=my-work]")), "TEC-000002"), 5000);
});

test("the offer also arrives as a desktop notification", async () => {
  // dunst keeps what it showed; closing moves it to the history, which dunstctl prints.
  const history = () => {
    execFileSync("dunstctl", ["close-all"]);
    return execFileSync("dunstctl", ["history"]).toString();
  };
  const deadline = Date.now() + 10000;
  let seen = history();
  while (!seen.includes("New task offered") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    seen = history();
  }
  assert.match(seen, /New task offered/);
  assert.match(seen, /Diagnose the fault — TEC-000002/);
});
