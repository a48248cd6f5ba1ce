// Workbin figures in the real window (a bench that prints, not a test): a team workbin
// of 100,000 open tasks, opened by its supervisor and scrolled as fast as a flick, then
// dragged to its end. Prints the frame intervals while scrolling against those of the
// same window sitting still (one run, so the ratio holds on a noisy machine), how many
// frames showed rows still being read, the rows in the page, and the time from the jump
// to the end until the last rows are filled in.
//   scripts/desk-figures.sh workbin   (seeds the workspace once, in target/workbin-100k)
import { By, until } from "selenium-webdriver";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDesk, artifacts } from "./session.mjs";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: node workbin-figures.mjs <seeded data dir>");
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const ms = (x) => `${x.toFixed(1)} ms`;

const desk = await openDesk(["--data-dir", dataDir, "--user", "sam"]);
const { driver } = desk;
try {
  await (await driver.wait(until.elementLocated(By.css("[data-testid=workbins-button]")), 30000)).click();
  await (await driver.wait(until.elementLocated(By.css("[data-testid=workbin-queue] option[value=Finances_group_B]")), 5000)).click();
  const opened = Date.now();
  const count = await driver.wait(until.elementLocated(By.css("[data-testid=workbin-count]")), 20000);
  await driver.wait(until.elementLocated(By.css("[data-testid=workbin-tasks] tbody tr[aria-rowindex]:not(.loading)")), 20000);
  const firstRows = Date.now() - opened;
  console.log(`workbin: ${await count.getText()}; first rows shown ${firstRows} ms after choosing it`);
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, "workbin-100k.png"), await driver.takeScreenshot(), "base64");

  // Frame intervals for `frames` frames, scrolling `step` px a frame (0: sitting still).
  const run = (frames, step) =>
    driver.executeAsyncScript(
      `const [frames, step, done] = arguments;
       const el = document.querySelector("[data-testid=workbin-scroller]");
       const out = { intervals: [], loading: 0, rows: 0 };
       let last = performance.now();
       const tick = () => {
         const now = performance.now();
         out.intervals.push(now - last);
         last = now;
         if (el.querySelector("tr.loading")) out.loading++;
         out.rows = Math.max(out.rows, el.querySelectorAll("tbody tr:not(.spacer)").length);
         el.scrollTop += step;
         if (out.intervals.length < frames) requestAnimationFrame(tick);
         else done(out);
       };
       requestAnimationFrame(() => { last = performance.now(); requestAnimationFrame(tick); });`,
      frames,
      step,
    );
  await driver.manage().setTimeouts({ script: 120000 });
  const still = await run(240, 0);
  const line = (what, r) =>
    `${what}: median ${ms(pct(r.intervals, 50))}, p95 ${ms(pct(r.intervals, 95))}, max ${ms(Math.max(...r.intervals))}` +
    (r === still ? "" : ` (p95 ratio to still: ${(pct(r.intervals, 95) / pct(still.intervals, 95)).toFixed(2)});`) +
    (r === still ? "" : ` frames showing rows still being read: ${r.loading} of ${r.intervals.length}; rows in the page at most: ${r.rows}`);
  console.log(line("frame interval, sitting still", still));
  // The floor this machine sets: a static copy of the same rows, 3,000 of them, in a
  // scroller of the same size, scrolled the same way (no virtualising, nothing read).
  await driver.executeScript(`
    const el = document.querySelector("[data-testid=workbin-scroller]");
    const copy = el.cloneNode(false);
    copy.dataset.testid = "static-copy";
    const rows = [...el.querySelectorAll("tbody tr[aria-rowindex]")].map((r) => r.outerHTML).join("");
    copy.innerHTML = "<table class='report'><tbody>" + rows.repeat(Math.ceil(3000 / el.querySelectorAll("tbody tr[aria-rowindex]").length)) + "</tbody></table>";
    el.style.display = "none";
    el.after(copy);`);
  const staticRun = (frames, step) =>
    driver.executeAsyncScript(
      `const [frames, step, done] = arguments;
       const el = document.querySelector("[data-testid=static-copy]");
       const out = { intervals: [], loading: 0, rows: el.querySelectorAll("tr").length };
       let last = performance.now();
       const tick = () => { const now = performance.now(); out.intervals.push(now - last); last = now; el.scrollTop += step;
         if (out.intervals.length < frames) requestAnimationFrame(tick); else done(out); };
       requestAnimationFrame(() => { last = performance.now(); requestAnimationFrame(tick); });`,
      frames,
      step,
    );
  console.log(line("a static table of 3,000 of the same rows, 3 rows a frame", await staticRun(600, 102)));
  await driver.executeScript(`document.querySelector("[data-testid=static-copy]").remove();
    document.querySelector("[data-testid=workbin-scroller]").style.display = "";`);
  // A mouse wheel moves about 3 rows a notch; a flick of the touchpad 30 a frame.
  console.log(line("scrolling 3 rows a frame (a wheel)", await run(600, 102)));
  console.log(line("scrolling 30 rows a frame (a flick)", await run(600, 1020)));

  const jump = await driver.executeAsyncScript(
    `const done = arguments[0];
     const el = document.querySelector("[data-testid=workbin-scroller]");
     const start = performance.now();
     el.scrollTop = el.scrollHeight;
     const wait = () => {
       const last = [...el.querySelectorAll("tbody tr[aria-rowindex]")].pop();
       const total = Number(el.querySelector("table").getAttribute("aria-rowcount"));
       if (!el.querySelector("tr.loading") && last && Number(last.getAttribute("aria-rowindex")) === total) done(performance.now() - start);
       else requestAnimationFrame(wait);
     };
     requestAnimationFrame(wait);`,
  );
  console.log(`jump to the end until its rows are filled in: ${ms(jump)}`);
  writeFileSync(join(artifacts, "workbin-100k-end.png"), await driver.takeScreenshot(), "base64");
} finally {
  await desk.close();
}
