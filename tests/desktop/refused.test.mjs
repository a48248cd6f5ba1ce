// A database file the app cannot use is refused with a clear message in the window,
// and the file is left exactly as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { openDesk } from "./session.mjs";

test("a damaged database is refused, named, and not modified", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "casedesk-e2e-damaged-"));
  const file = join(dataDir, "casedesk.sqlite");
  const garbage = Buffer.from("these are my notes, not a database\n".repeat(200));
  writeFileSync(file, garbage);
  const desk = await openDesk(["--data-dir", dataDir]);
  try {
    const banner = await desk.driver.wait(until.elementLocated(By.css("[data-testid=error]")), 20000);
    const text = await banner.getText();
    assert.match(text, /is not a usable Casedesk database/);
    assert.match(text, /The file was not modified/);
    assert.match(text, /database_corrupt/);
  } finally {
    await desk.close();
  }
  assert.deepEqual(readFileSync(file), garbage);
});
