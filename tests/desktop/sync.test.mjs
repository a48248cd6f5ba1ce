// Two desks and a hub, all real processes: bea's desk loses the network and she credits
// the customer on FIN-000001 offline, while sam, not knowing, gives the same task to
// himself. When bea's desk is back, both desks show the same result (her completion
// stands, the case moves on to Settle) and the same conflict, with both values kept.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { openDesk, artifacts, freePort, press, root } from "./session.mjs";

const PASSWORD = "sync-test-demo-password";
// The suite runs this file twice: with the hub on an SQLite file, then on the PostgreSQL
// database CASEDESK_E2E_HUB_DATABASE names.
const hubDatabase = process.env.CASEDESK_E2E_HUB_DATABASE;
let hub;
let hubPort;
let cut; // the network between bea's desk and the hub
let bea;
let sam;
let opened; // where the stand-in file viewer writes what it was asked to open

/** A TCP relay to the hub that can be cut (every connection dropped) and joined again. */
function relay(listenPort, targetPort) {
  let server = null;
  const sockets = new Set();
  const up = () =>
    new Promise((resolve) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(listenPort, "127.0.0.1", resolve);
    });
  const down = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server?.listening) return resolve();
      server.close(() => resolve());
    });
  return { up, down };
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  hubPort = await freePort();
  hub = spawn(
    join(root, "target/debug/casedesk-server"),
    [
      ...["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-e2e-hub-")), "--listen", `127.0.0.1:${hubPort}`, "--demo"],
      ...(hubDatabase ? ["--database", hubDatabase] : []),
    ],
    { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, CASEDESK_DEMO_PASSWORD: PASSWORD } },
  );
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${hubPort}/api/openapi.json`);
      break;
    } catch {
      assert.ok(i < 100, "the hub starts");
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const relayPort = await freePort();
  cut = relay(relayPort, hubPort);
  await cut.up();
  process.env.CASEDESK_PASSWORD = PASSWORD;
  // The desktop's file viewer is outside the app: an xdg-open first on the PATH stands in
  // for it and writes down which file the app handed it.
  const viewer = mkdtempSync(join(tmpdir(), "casedesk-e2e-viewer-"));
  opened = join(viewer, "opened");
  writeFileSync(join(viewer, "xdg-open"), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(join(viewer, "xdg-open"), 0o755);
  process.env.PATH = `${viewer}:${process.env.PATH}`;
  const dir = (who) => mkdtempSync(join(tmpdir(), `casedesk-e2e-sync-${who}-`));
  bea = await openDesk(["--data-dir", dir("bea"), "--user", "bea", "--hub", `http://127.0.0.1:${relayPort}`]);
  sam = await openDesk(["--data-dir", dir("sam"), "--user", "sam", "--hub", `http://127.0.0.1:${hubPort}`]);
});

after(async () => {
  await bea?.close();
  await sam?.close();
  await cut?.down();
  hub?.kill();
});

const text = async (driver, css) => {
  const found = await driver.findElements(By.css(css));
  return found.length ? await found[0].getText() : "";
};

async function waitForText(driver, css, pattern, ms, what) {
  await driver.wait(async () => pattern.test(await text(driver, css)), ms, what);
}

async function openCase(driver, reference) {
  const search = await driver.findElement(By.css("[data-testid=search]"));
  await search.clear();
  await search.sendKeys(reference);
  const hit = await driver.wait(
    until.elementLocated(By.xpath(`//*[@data-testid='search-results']//button[contains(., '${reference}')]`)),
    5000,
  );
  await press(driver, hit);
  const panel = await driver.wait(until.elementLocated(By.css("[data-testid=case-panel]")), 5000);
  await driver.wait(until.elementTextContains(panel, reference), 5000);
  return panel;
}

test("both desks change the same task; after reconnecting they agree and show the conflict", { timeout: 180000 }, async () => {
  const [b, s] = [bea.driver, sam.driver];
  await waitForText(b, "[data-testid=sync-state]", /^Hub online$/, 30000, "bea's desk reaches the hub");
  await waitForText(s, "[data-testid=sync-state]", /^Hub online$/, 30000, "sam's desk reaches the hub");

  await cut.down();
  await waitForText(b, "[data-testid=sync-state]", /^Hub offline$/, 20000, "bea's desk notices it is offline");

  // Bea credits the customer, offline: her desk shows it at once, and that it waits.
  const myWork = await b.findElement(By.css("[data-testid=my-work]"));
  await b.wait(until.elementTextContains(myWork, "FIN-000001"), 10000);
  await press(b, await myWork.findElement(By.xpath(".//button[contains(., 'FIN-000001')]")));
  const work = await b.wait(until.elementLocated(By.css("[data-testid=task-work]")), 5000);
  await press(b, await work.findElement(By.css("[data-testid=outcome-credit]")));
  await waitForText(b, "[data-testid=case-stage]", /Settle/, 5000, "the case moves on, on bea's desk");
  await waitForText(b, "[data-testid=sync-waiting]", /^1 change waiting$/, 5000, "and her change waits");
  writeFileSync(join(artifacts, "sync-offline.png"), await b.takeScreenshot(), "base64");

  // Sam, online, gives the same task to himself from the finance workbin.
  await press(s, await s.findElement(By.css("[data-testid=workbins-button]")));
  const sheet = await s.wait(until.elementLocated(By.css("[data-testid=workbins]")), 5000);
  await sheet.findElement(By.css("[data-testid=workbin-queue] option[value=Finances_group_B]")).click();
  await press(s, await s.wait(until.elementLocated(By.css("[data-testid=choose-FIN-000001]")), 5000));
  const target = await s.wait(until.elementLocated(By.css("[data-testid=workbin-target] option[value='agent:sam']")), 5000);
  await target.click();
  await press(s, await s.findElement(By.css("[data-testid=workbin-reassign]")));
  await s.wait(until.elementLocated(By.css("[data-testid=workbin-done]")), 5000);
  await press(s, await sheet.findElement(By.css("button.close")));

  // Bea's desk is back: her completion stands over the reassignment she had not seen.
  await cut.up();
  await waitForText(b, "[data-testid=sync-state]", /^Hub online$/, 20000, "bea's desk is back online");
  await waitForText(b, "[data-testid=conflicts-button]", /^1 conflict$/, 20000, "bea sees the conflict");
  await waitForText(s, "[data-testid=conflicts-button]", /^1 conflict$/, 20000, "sam sees it too");
  assert.equal(await text(b, "[data-testid=sync-waiting]"), "", "nothing waits any more");

  for (const [who, driver] of [["bea", b], ["sam", s]]) {
    const panel = await openCase(driver, "FIN-000001");
    await driver.wait(until.elementTextContains(panel.findElement(By.css("[data-testid=case-stage]")), "Settle"), 10000);
    await press(driver, await driver.findElement(By.css("[data-testid=conflicts-button]")));
    const conflict = await driver.wait(until.elementLocated(By.css("[data-testid=conflict]")), 5000);
    const said = await conflict.getText();
    assert.match(said, /bea completed the task offline while it was theirs; it had since been given to sam/, who);
    assert.match(said, /credit/, `${who}: what bea's command brought is kept`);
    assert.match(said, /"assignee":"sam"/, `${who}: what stood is kept`);
    writeFileSync(join(artifacts, `sync-conflict-${who}.png`), await driver.takeScreenshot(), "base64");
  }
});

test("a file sam attaches on his desk opens on bea's, fetched from the hub", { timeout: 120000 }, async () => {
  const [b, s] = [bea.driver, sam.driver];
  for (const driver of [b, s]) {
    // The conflicts sheet the test before left open closes as it opened.
    if ((await driver.findElements(By.css("[data-testid=conflict]"))).length > 0) {
      await press(driver, await driver.findElement(By.css("[data-testid=conflicts-button]")));
    }
  }
  const receipt = join(mkdtempSync(join(tmpdir(), "casedesk-e2e-file-")), "Quittung März.txt");
  const content = "Credit note 4711: 12.50 EUR\n".repeat(2000);
  writeFileSync(receipt, content);
  const panel = await openCase(s, "FIN-000001");
  await panel.findElement(By.css("[data-testid=attach-file]")).sendKeys(receipt);
  const button = "[data-testid='attachment-Quittung März.txt']";
  await s.wait(until.elementLocated(By.css(button)), 10000, "the attachment is listed on sam's desk");
  await waitForText(s, "[data-testid=sync-waiting]", /^$/, 20000, "sam's desk has pushed it");

  // Bea's desk pulls the row; the content stays on the hub until she opens it.
  let listed = [];
  for (let i = 0; i < 40 && listed.length === 0; i++) {
    await openCase(b, "FIN-000001");
    listed = await b.findElements(By.css(button));
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(listed.length, 1, "bea's desk lists the attachment");
  await press(b, listed[0]);
  await waitForText(b, "[data-testid=attachment-opened]", /^Opened Quittung März\.txt$/, 20000, "bea's desk opens it");
  await b.wait(async () => existsSync(opened), 10000, "the file viewer was asked to open it");
  const path = readFileSync(opened, "utf8");
  assert.match(path, /Quittung März\.txt$/);
  assert.equal(readFileSync(path, "utf8"), content, "what bea opens is what sam attached");
  writeFileSync(join(artifacts, "sync-attachment-bea.png"), await b.takeScreenshot(), "base64");
});

test("a case a customer sends on the hub's web form reaches sam's desk", { timeout: 120000 }, async () => {
  const s = sam.driver;
  const form = new FormData();
  const typed = { name: "Grace Hopper", email: "grace@example.com", subject: "Charged twice for November",
    intent: "billing_dispute", "fields.invoice_number": "INV-123456", "fields.disputed_amount": "49.50" };
  for (const [k, v] of Object.entries(typed)) form.append(k, v);
  form.append("files", new Blob(["%PDF-1.4 two charges"], { type: "application/pdf" }), "statement.pdf");
  const sent = await fetch(`http://127.0.0.1:${hubPort}/form/finance`, { method: "POST", body: form, redirect: "manual" });
  assert.equal(sent.status, 303, await sent.text());
  const reference = new URL(sent.headers.get("location"), "http://x").searchParams.get("reference");
  assert.match(reference, /^FIN-\d{6}$/);

  // The hub's change stream brings it to the desk; the supervisor of its queue finds it.
  let panel = null;
  for (let i = 0; i < 40 && !panel; i++) {
    try {
      panel = await openCase(s, reference);
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  assert.ok(panel, `${reference} reaches sam's desk`);
  await s.wait(until.elementTextContains(panel, "Grace Hopper"), 5000, "with its customer");
  await s.wait(until.elementTextContains(panel.findElement(By.css("[data-testid=interactions]")), "Web"), 5000);
  await s.wait(until.elementLocated(By.css("[data-testid='attachment-statement.pdf']")), 5000, "and the file she sent");
  await s.wait(until.elementTextContains(panel, "by Grace Hopper (web form)"), 5000, "the form's work shown as hers");
  // The desk's case list was read again after the pull that brought it.
  await waitForText(s, "[data-testid=cases]", new RegExp(reference), 5000, `${reference} in sam's case list`);
  writeFileSync(join(artifacts, "sync-web-form-case.png"), await s.takeScreenshot(), "base64");
});
