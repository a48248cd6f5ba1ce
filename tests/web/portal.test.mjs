// A customer in a real browser (Debian's chromium, driven by Playwright) against a real
// hub process: the web form refuses an invalid field beside it, then takes the request
// and shows its reference; the confirmation arrives at a local SMTP sink; the customer
// asks for a sign-in link, follows it from the email, sees the case, adds a comment, and
// is refused another customer's case. An agent then reads the comment through the API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";
import { artifacts, freePort, root } from "../common.mjs";

const PASSWORD = "web-test-demo-password";
let hub;
let base;
let smtp;
let browser;
const mail = []; // every message the sink accepted, parsed

/** The first message to `to` whose text contains `needle` (and not `unlike`), waiting for the hub's sender. */
async function mailTo(to, needle, unlike) {
  for (let i = 0; i < 150; i++) {
    const found = mail.find((m) => m.to?.text.includes(to) && m.text.includes(needle) && !(unlike && m.text.includes(unlike)));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`no email to ${to} with "${needle}"; the sink has ${JSON.stringify(mail.map((m) => [m.to?.text, m.subject]))}`);
}

async function api(method, path, token, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  const smtpPort = await freePort();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream).then((m) => {
        mail.push(m);
        done();
      }, done);
    },
  });
  await new Promise((r) => smtp.listen(smtpPort, "127.0.0.1", r));

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  hub = spawn(
    join(root, "target/debug/casedesk-server"),
    ["--data-dir", mkdtempSync(join(tmpdir(), "casedesk-web-hub-")), "--listen", `127.0.0.1:${port}`, "--public-url", base, "--demo"],
    { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, CASEDESK_DEMO_PASSWORD: PASSWORD } },
  );
  for (let i = 0; ; i++) {
    try {
      await fetch(`${base}/api/openapi.json`);
      break;
    } catch {
      assert.ok(i < 150, "the hub starts");
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const ada = (await api("POST", "/api/login", null, { user: "ada", password: PASSWORD })).body.token;
  const channels = await api("PUT", "/api/notification-channels", ada, {
    email: { host: "127.0.0.1", port: smtpPort, security: "none", from: "Service <service@casedesk.example>" },
  });
  assert.equal(channels.status, 204, JSON.stringify(channels.body));

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  hub?.kill();
  await new Promise((r) => (smtp ? smtp.close(r) : r()));
});

test("a customer creates a case on the web form, follows it in the portal, and sees no one else's", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/form`);
  await page.getByRole("link", { name: "Finance" }).click();
  await page.getByLabel("Your name").fill("Grace Hopper");
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByLabel("What is it about?").selectOption({ label: "Billing dispute" });
  await page.getByLabel("Subject").fill("Charged twice for November");
  await page.getByLabel("Invoice number").fill("123");
  await page.getByLabel("Disputed amount (EUR)").fill("49.50");
  await page.getByRole("button", { name: "Send request" }).click();

  // Refused beside the field, with what was typed kept.
  const error = page.locator("#f-invoice_number-error");
  await error.waitFor();
  assert.equal(await error.textContent(), "INV- followed by 6 digits");
  assert.equal(await page.getByLabel("Invoice number").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("Your name").inputValue(), "Grace Hopper");
  assert.match(await page.getByRole("alert").textContent(), /Invoice number: INV- followed by 6 digits/);
  await page.screenshot({ path: join(artifacts, "web-form-refused.png"), fullPage: true });

  await page.getByLabel("Invoice number").fill("INV-123456");
  await page.getByRole("button", { name: "Send request" }).click();
  const reference = (await page.locator("#reference").textContent()).trim();
  assert.match(reference, /^FIN-\d{6}$/);
  await page.screenshot({ path: join(artifacts, "web-form-sent.png"), fullPage: true });

  const confirmation = await mailTo("grace@example.com", reference);
  assert.match(confirmation.subject, new RegExp(reference));

  // Another customer's case, made the same way.
  const other = new FormData();
  for (const [k, v] of Object.entries({ name: "Alan Turing", email: "alan@example.com", subject: "Wrong amount",
    "fields.invoice_number": "INV-654321" })) other.append(k, v);
  const made = await fetch(`${base}/form/finance`, { method: "POST", body: other, redirect: "manual" });
  assert.equal(made.status, 303);
  const otherReference = new URL(made.headers.get("location"), base).searchParams.get("reference");

  // Sign in by the link the email brings.
  await page.goto(`${base}/portal`);
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByRole("button", { name: "Send me a sign-in link" }).click();
  await page.getByText("Check your email.").waitFor();
  const signIn = await mailTo("grace@example.com", "/portal/sign-in?token=");
  const link = signIn.text.match(/http:\S+\/portal\/sign-in\?token=\S+/)[0];
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "My requests" }).waitFor();
  const rows = await page.locator("tbody tr td:first-child").allTextContents();
  assert.deepEqual(rows.map((r) => r.trim()), [reference], "only her own case is listed");
  await page.screenshot({ path: join(artifacts, "portal-cases.png"), fullPage: true });

  await page.getByRole("link", { name: reference }).click();
  assert.equal((await page.locator("#status").textContent()).trim(), "New");
  await page.getByText("INV-123456").waitFor();
  await page.getByLabel("Add a comment").fill("Any news on this? The second charge is still there.");
  await page.getByRole("button", { name: "Add comment" }).click();
  await page.getByText("Any news on this? The second charge is still there.").waitFor();
  await page.getByLabel("Add a document or photo").setInputFiles({
    name: "bank-statement.png",
    mimeType: "image/png",
    buffer: Buffer.from("89504e470d0a1a0a", "hex"),
  });
  await page.getByRole("button", { name: "Add document" }).click();
  await page.getByText("bank-statement.png").waitFor();
  await page.screenshot({ path: join(artifacts, "portal-case.png"), fullPage: true });

  // Signing out ends the session on the hub: the cases page sends her to sign in again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Follow your requests" }).waitFor();
  await page.goto(`${base}/portal/cases`);
  await page.getByRole("heading", { name: "Follow your requests" }).waitFor();

  // The link works once.
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("does not work any more").waitFor();

  // Another customer's case is not found, exactly as one that does not exist.
  await page.goto(`${base}/portal`);
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByRole("button", { name: "Send me a sign-in link" }).click();
  await page.getByText("Check your email.").waitFor();
  const again = (await mailTo("grace@example.com", "/portal/sign-in?token=", link)).text;
  await page.goto(again.match(/http:\S+\/portal\/sign-in\?token=\S+/)[0]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "My requests" }).waitFor();
  const theirs = await page.goto(`${base}/portal/cases/${otherReference}`);
  assert.equal(theirs.status(), 404);
  await page.getByRole("heading", { name: "No such case" }).waitFor();
  const none = await page.goto(`${base}/portal/cases/FIN-999999`);
  assert.equal(none.status(), 404);

  // The agent side: the case came in by the web, with her comment.
  const ada = (await api("POST", "/api/login", null, { user: "ada", password: PASSWORD })).body.token;
  const detail = (await api("GET", `/api/cases/${reference}`, ada)).body;
  assert.equal(detail.interactions[0].channel, "web");
  assert.equal(detail.customer.email, "grace@example.com");
  assert.ok(detail.notes.some((n) => n.body.startsWith("Any news on this?") && n.author === detail.customer_author));
  assert.ok(detail.attachments.some((a) => a.file_name === "bank-statement.png" && a.added_by === detail.customer_author));
  await page.close();
});
