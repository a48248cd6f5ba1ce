// Desk figures in the real window (a bench that prints, not a test): time from asking
// for the window to an interactive desk, how long opening a case takes until its view
// shows, and the idle memory of the whole app (its process and WebKit's).
//   xvfb-run -a dbus-run-session -- node tests/desktop/figures.mjs   (or scripts/desk-figures.sh)
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { By, until } from "selenium-webdriver";
import { openDesk } from "./session.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Proportional set size (kB) of a process and everything it started.
function pssTree(pid) {
  const pss = (p) => {
    try {
      const m = readFileSync(`/proc/${p}/smaps_rollup`, "utf8").match(/^Pss:\s+(\d+) kB/m);
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const children = (p) =>
    execFileSync("ps", ["-o", "pid=", "--ppid", String(p)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  let total = 0;
  const seen = [pid];
  while (seen.length) {
    const p = seen.pop();
    total += pss(p);
    try {
      seen.push(...children(p));
    } catch {
      // no children
    }
  }
  return total;
}

// When a process started (Unix ms): its age is the time since boot less its start in
// clock ticks since boot (both from /proc, to 10 ms).
function startedAt(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const tick = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
  const now = Date.now();
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return now - (uptime - Number(fields[19]) / tick) * 1000;
}

const appPid = (dataDir) =>
  Number(execFileSync("pgrep", ["-n", "-f", `casedesk --data-dir ${dataDir}`], { encoding: "utf8" }).trim());

const rounds = Number(process.env.ROUNDS ?? 3);
const starts = [];
for (let round = 1; round <= rounds; round++) {
  const dataDir = mkdtempSync(join(tmpdir(), "casedesk-figures-"));
  // A workspace seeded once, so the rounds time a start, not the demo's seeding.
  if (round === 1) {
    const seed = await openDesk(["--data-dir", dataDir, "--user", "alex"]);
    await seed.driver.wait(until.elementLocated(By.css("[data-testid=my-work] li")), 30000);
    await seed.close();
  }
  const asked = Date.now();
  const desk = await openDesk(["--data-dir", dataDir, "--user", "alex"]);
  await desk.driver.wait(until.elementLocated(By.css("[data-testid=my-work] li")), 30000, "", 20);
  const ready = Date.now();
  const inPage = await desk.driver.executeScript("return performance.now()");
  starts.push({ total: ready - asked, fromProcess: ready - startedAt(appPid(dataDir)), inPage });

  if (round === rounds) {
    // Opening each case from the list until its view shows its reference.
    const opens = [];
    for (let i = 0; i < 14; i++) {
      const ms = await desk.driver.executeAsyncScript(`
        const done = arguments[arguments.length - 1];
        const rows = document.querySelectorAll("[data-testid=cases] tbody tr");
        const row = rows[${i} % rows.length];
        const ref = row.querySelector(".ref").textContent.trim();
        const t0 = performance.now();
        row.click();
        const look = () => {
          const h = document.querySelector("[data-testid=case-panel] h2");
          if (h && h.textContent.includes(ref)) done(performance.now() - t0);
          else requestAnimationFrame(look);
        };
        look();`);
      opens.push(ms);
    }
    console.log(`case open, click to view shown (14 opens): median ${median(opens).toFixed(1)} ms, max ${Math.max(...opens).toFixed(1)} ms`);
    await desk.driver.sleep(10000);
    const pid = appPid(dataDir);
    console.log(`idle memory after 10 s (the app and its WebKit processes, PSS): ${(pssTree(pid) / 1024).toFixed(0)} MiB`);
  }
  await desk.close();
}
console.log(
  `start, asking for the window to an interactive desk (includes the WebDriver's own start): ` +
    `median ${median(starts.map((s) => s.total)).toFixed(0)} ms of ${starts.map((s) => s.total.toFixed(0)).join(", ")}`,
);
console.log(
  `cold start, the app's process starting to an interactive desk (work listed): median ` +
    `${median(starts.map((s) => s.fromProcess)).toFixed(0)} ms of ${starts.map((s) => s.fromProcess.toFixed(0)).join(", ")}`,
);
console.log(`of which the page, from its start: median ${median(starts.map((s) => s.inPage)).toFixed(0)} ms`);
