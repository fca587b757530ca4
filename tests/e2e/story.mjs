// The whole Mailer story in Debian's chromium, driven by playwright-core, against a real
// `mailer serve` + `mailer-worker` started by run.sh (`just e2e`). Each step is a function;
// a failing step stops the run with its name, the page's URL and a screenshot.
//
// Environment (set by run.sh): E2E_BASE_URL, E2E_OUTBOX (the server's outbox folder),
// E2E_SCREENSHOTS (where the PNGs go), E2E_STAFF_PASSWORD (of manager@ and writer@example.com),
// E2E_LANG (en or ru: the browser's language, so every page and e-mail is in it) and E2E_TZ
// (the browser's time zone, which registration takes for the account). The story finds
// buttons and texts by the site's own texts in that language (templates/locales).

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

import * as a11y from "./a11y.mjs";

const BASE = required("E2E_BASE_URL");
const LANG = process.env.E2E_LANG || "en";
const TZ = process.env.E2E_TZ || "Europe/Berlin";
/** What every browser context of the story is: the language and the time zone. */
const PEOPLE = { locale: LANG === "ru" ? "ru-RU" : "en-GB", timezoneId: TZ };
const OUTBOX = required("E2E_OUTBOX");
const SHOTS = required("E2E_SCREENSHOTS");
const STAFF_PASSWORD = required("E2E_STAFF_PASSWORD");
const MANAGER = "manager@example.com";
const WRITER = "writer@example.com";
const USER = { email: "ada@example.com", password: "copper-lantern-river-31" };
const CSV = [
  "email,full_name,comment",
  "grace@example.com,Grace Hopper,compilers",
  "alan@example.com,Alan Turing,",
  "not-an-address,Broken Row,skipped by the import",
  "Linus@Example.com,Linus again,a duplicate of the client added by hand",
  "edsger@example.com,Edsger Dijkstra,",
].join("\n");

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through \`just e2e\``);
  return value;
}

// ---------------------------------------------------------------------------------------
// The site's texts in LANG, read from its Fluent files: simple messages, `{ $name }` values
// and plural selectors (`{ $count -> [one] … *[other] … }`).

const CATALOG = (() => {
  const dir = new URL(`../../templates/locales/${LANG}/`, import.meta.url);
  const messages = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ftl"))) {
    let id = null;
    let lines = [];
    const flush = () => {
      if (id) messages[id] = lines.join("\n");
      id = null;
      lines = [];
    };
    for (const line of readFileSync(new URL(file, dir), "utf8").split("\n")) {
      const start = /^([a-zA-Z][\w-]*)\s*=\s?(.*)$/.exec(line);
      if (start) {
        flush();
        id = start[1];
        lines = [start[2]];
      } else if ((/^\s+\S/.test(line) || /^\}\s*$/.test(line)) && id) lines.push(line.trim());
      else flush();
    }
    flush();
  }
  return messages;
})();

/** The text `id` in LANG with `values`. */
function tx(id, values = {}) {
  const source = CATALOG[id];
  if (source === undefined) throw new Error(`no text ${id} in ${LANG}`);
  const filled = source.replace(/\{\s*\$(\w+)\s*\}/g, (_, name) => String(values[name]));
  return filled
    .replace(/\{\s*\$(\w+)\s*->([\s\S]*?)\n?\s*\}/g, (_, name, body) => {
      const variants = {};
      let fallback = null;
      for (const [, star, key, text] of body.matchAll(/(\*)?\[(\w+)\]\s*([^\n]*)/g)) {
        variants[key] = text.trim();
        if (star) fallback = key;
      }
      const category = new Intl.PluralRules(LANG).select(Number(values[name]));
      return variants[category] ?? variants[fallback];
    })
    .trim();
}

/** A form field by its name, in the page's main part. */
const field = (page, name) => page.locator(`main [name="${name}"]`).first();
/** A button of the page's main part by its text `id`. */
const button = (page, id, values) =>
  page.locator("main").getByRole("button", { name: tx(id, values), exact: true });

/** An RFC 2047 encoded header (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) as text. */
function decodeHeader(value) {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_, charset, kind, text) =>
    kind.toLowerCase() === "b"
      ? Buffer.from(text, "base64").toString("utf8")
      : Buffer.from(
          text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
          "latin1",
        ).toString("utf8"),
  );
}

/** A date-time input's value for `offset` minutes from now, in the story's time zone. */
function localMinute(offset) {
  const at = new Date(Date.now() + offset * 60_000);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: TZ,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

const url = (path) => new URL(path, BASE).toString();
const pathOf = (page) => new URL(page.url()).pathname;

async function shot(page, name, options = {}) {
  mkdirSync(SHOTS, { recursive: true });
  // English keeps the names the README has used; other languages get their code in front.
  const file = LANG === "en" ? name : `${LANG}-${name}`;
  await page.screenshot({ path: join(SHOTS, file), fullPage: true, ...options });
  console.log(`     screenshot ${join(SHOTS, file)}`);
}

// Every page of every browser context reports CSP violations here (the page's own
// `securitypolicyviolation` event, and the console's "Refused to …" line); a step that
// causes one fails.
const cspViolations = [];
async function watchedContext(browser, options = {}) {
  const context = await browser.newContext({ ...PEOPLE, ...options });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const on = event.target instanceof Element ? event.target.outerHTML.slice(0, 120) : "";
      console.error(
        `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
          `(${event.sourceFile || "?"}:${event.lineNumber || 0}) ${event.sample || ""} ${on}`,
      );
    });
  });
  context.on("console", (message) => {
    const text = message.text();
    if (/^CSP violation:|Content Security Policy/.test(text)) {
      cspViolations.push(`${message.page()?.url() ?? "?"}: ${text}`);
    }
  });
  return context;
}

let current = null; // the page a failing step is about
async function step(name, fn) {
  const started = Date.now();
  const violations = cspViolations.length;
  try {
    await fn();
    assert.deepEqual(cspViolations.slice(violations), [], "no CSP violation in the console");
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    console.log(`FAIL ${name}${current ? ` at ${current.url()}` : ""}`);
    if (current) await shot(current, "e2e-failure.png").catch(() => {});
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Mail from the outbox

/** The decoded text of every part of an .eml file (7bit, quoted-printable or base64). */
function mailText(raw) {
  // Split at the MIME boundary only: a text body's "-- " signature line is not one.
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const escaped = boundary?.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parts = escaped ? raw.split(new RegExp(`\\r?\\n--${escaped}(?:--)?\\r?\\n`)) : [raw];
  return parts
    .map((part) => {
      const split = part.search(/\r?\n\r?\n/);
      if (split < 0) return part;
      const headers = part.slice(0, split);
      const body = part.slice(split).trim();
      const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
      if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
      if (encoding === "quoted-printable") {
        return Buffer.from(
          body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
          "latin1",
        ).toString("utf8");
      }
      return body;
    })
    .join("\n");
}

/**
 * Waits for a mail to `to` for which `pick(raw, text)` returns something, and returns that.
 * The mail goes through the worker's queue: usually there within a second, but under load
 * apalis-sqlite has been seen to take more than ten.
 */
async function fromOutbox(to, what, pick) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    let files = [];
    try {
      files = readdirSync(OUTBOX).filter((f) => f.endsWith(".eml")).sort();
    } catch {
      // the folder appears with the first mail
    }
    for (const file of files.reverse()) {
      const raw = readFileSync(join(OUTBOX, file), "utf8");
      if (!new RegExp(`^To:.*${to.replace(".", "\\.")}`, "mi").test(raw)) continue;
      const found = pick(raw, mailText(raw));
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} with ${what} in ${OUTBOX}`);
}

/** Waits for a mail to `to` whose text holds a link under `path`; returns that link. */
async function linkFromOutbox(to, path) {
  const pattern = new RegExp(`https?://[^\\s"'<>]+${path}[^\\s"'<>]+`);
  return fromOutbox(to, `a ${path} link`, (_, text) => pattern.exec(text)?.[0]);
}

/** Waits for a mail to `to` whose subject matches `subject`; returns its text. */
async function mailFromOutbox(to, subject) {
  return fromOutbox(to, `the subject ${subject}`, (raw, text) =>
    subject === decodeHeader(/^Subject:(.*(?:\r?\n[ \t].*)*)$/im.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, " ") ?? "").trim()
      ? text
      : null,
  );
}

// ---------------------------------------------------------------------------------------
// The user's story

async function registerAndVerify(page) {
  await page.goto(url("/register"));
  await a11y.everyFieldLabelled(page, "form[action^='/register']");

  // A mismatched confirmation: the page comes back with the error tied to its field.
  await field(page, "email").fill(USER.email);
  await field(page, "password").fill(USER.password);
  await field(page, "password_confirm").fill("something-else-entirely-9");
  await button(page, "account-register-submit").click();
  await a11y.focusOnFirstError(page);
  await a11y.errorsAnnounced(page);

  await field(page, "password").fill(USER.password);
  await field(page, "password_confirm").fill(USER.password);
  await button(page, "account-register-submit").click();
  await page.waitForURL((u) => u.pathname !== "/register");

  const link = await linkFromOutbox(USER.email, "/verify/");
  console.log(`     verification link from the outbox: ${link.replace(/[^/]{12,}$/, "…")}`);
  await page.goto(link);
  await page.waitForURL(/\/login/);
  await page.getByText(tx("flash-account-confirmed", { address: USER.email })).waitFor();
}

/**
 * Registering a taken address answers as a new registration does (nothing on the page says
 * the address has an account) and mails its owner instead.
 */
async function registerTakenAddress(page) {
  await page.goto(url("/register"));
  await field(page, "email").fill(USER.email.toUpperCase());
  await field(page, "password").fill("another-copper-lantern-7");
  await field(page, "password_confirm").fill("another-copper-lantern-7");
  await button(page, "account-register-submit").click();
  await page.waitForURL(/\/login/);
  await page.getByText(tx("flash-account-registered", { address: USER.email })).waitFor();
  const notice = await mailFromOutbox(USER.email, tx("mail-subject-registration-attempt"));
  assert.match(notice, /\/password\/reset/, "the notice offers a password reset");
}

async function signIn(page, email, password) {
  await page.goto(url("/login"));
  await a11y.everyFieldLabelled(page, "form[action='/login']");
  await field(page, "email").fill(email);
  await field(page, "password").fill(password);
  await button(page, "account-login-submit").click();
  await page.waitForURL((u) => u.pathname !== "/login");
}

async function signInByKeyboard(page) {
  // A wrong password first: the htmx swap puts focus on the error, the rest is typed.
  await page.goto(url("/login"));
  await a11y.skipLinkFirst(page);
  await field(page, "email").fill(USER.email);
  await field(page, "password").fill("not-the-password-at-all");
  await field(page, "password").press("Enter");
  await page.locator("[role=alert]").first().waitFor();
  await a11y.focusOnFirstError(page);
  await a11y.errorsAnnounced(page);

  await field(page, "password").focus();
  await page.keyboard.type(USER.password);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/dashboard/);
}

async function addClientByForm(page) {
  await page.goto(url("/clients/new"));
  await a11y.everyFieldLabelled(page, "#client-form form");
  // Empty form: 422 swapped in by htmx, focus on the first invalid field, errors announced.
  await button(page, "clients-add").click();
  await page.locator("#client-form [aria-invalid=true]").first().waitFor();
  await a11y.focusOnFirstError(page);
  await a11y.errorsAnnounced(page);

  await field(page, "email").fill("linus@example.com");
  await field(page, "full_name").fill("Linus Torvalds");
  await field(page, "comment").fill("added by hand");
  await button(page, "clients-add").click();
  await page.waitForURL((u) => u.pathname === "/clients");
  await page.getByRole("cell", { name: "linus@example.com" }).waitFor();
}

async function importCsv(page) {
  await page.goto(url("/clients/import"));
  await a11y.everyFieldLabelled(page, "form[action^='/clients/import']");
  await field(page, "file").setInputFiles({
    name: "clients.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV),
  });
  await button(page, "clients-import-upload").click();
  await page.locator("#import-valid").waitFor();
  assert.equal(await page.locator("#import-valid").textContent(), "3", "three good rows");
  assert.equal(await page.locator("#import-duplicates").textContent(), "1", "one known address");
  assert.equal(await page.locator("#import-invalid").textContent(), "1", "one broken row");
  await button(page, "clients-preview-import", { count: 3 }).click();
  await page.waitForURL((u) => u.pathname === "/clients");
  for (const email of ["grace@example.com", "alan@example.com", "edsger@example.com"]) {
    await page.getByRole("cell", { name: email }).waitFor();
  }
}

async function writeMessage(page) {
  await page.goto(url("/messages/new"));
  await a11y.everyFieldLabelled(page, "#message-form form");
  await field(page, "subject").fill("Spring news");
  await field(page, "body").fill("Hello,\n\nour spring catalogue is out.\n\n— The shop");
  await button(page, "messages-save-new").click();
  await page.waitForURL(/\/messages\/\d+$/);
}

/** Creates a mailing to every client, starting now; returns its page path. */
async function createMailing(page) {
  await page.goto(url("/mailings/new"));
  await a11y.everyFieldLabelled(page, "form[action='/mailings/new']");
  // Nothing chosen: errors beside the fields, focus on the first one.
  await field(page, "start_at").fill("");
  await button(page, "mailings-create").click();
  await page.locator("[aria-invalid=true]").first().waitFor();
  await a11y.focusOnFirstError(page);
  await a11y.errorsAnnounced(page);

  assert.ok((await page.locator("#e-name").textContent()).trim(), "a mailing needs a name");
  await field(page, "name").fill("Spring news to everyone");
  await field(page, "message_id").selectOption({ label: "Spring news" });
  await field(page, "start_at").fill(localMinute(-1));
  await field(page, "end_at").fill(localMinute(24 * 60));
  await field(page, "periodicity").selectOption("once");
  await button(page, "mailings-field-clients-all").click();
  assert.equal(await page.locator("[data-picker-count]").textContent(), "4");
  await button(page, "mailings-create").click();
  await page.waitForURL(/\/mailings\/\d+$/);
  assert.match(await page.locator("main h1").textContent(), /Spring news to everyone/);
  return pathOf(page);
}

async function watchProgress(page) {
  // The page is not reloaded while it polls: a marker set now must survive until "done",
  // and the report below fills in by itself.
  await page.evaluate(() => {
    window.e2eMarker = "same page";
  });
  await page.waitForFunction(
    () => document.querySelector("#progress-sent")?.textContent.trim() === "4",
    null,
    { timeout: 30_000, polling: 250 },
  );
  await page.locator("#progress").getByText(tx("mailings-progress-done")).waitFor();
  assert.equal(await page.locator("#progress-pending").textContent(), "0");
  await page.locator("#report-successes").waitFor({ timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.e2eMarker), "same page", "progress updated in place");
}

async function readReport(page) {
  assert.equal(await page.locator("#report-attempts").textContent(), "4");
  assert.equal(await page.locator("#report-successes").textContent(), "4");
  assert.equal(await page.locator("#report-failures").textContent(), "0");
  await page.locator(".chart-box svg").waitFor();
  const recipients = await page.locator("#report-clients tbody tr td:first-child").allTextContents();
  assert.deepEqual(recipients.sort(), [
    "alan@example.com",
    "edsger@example.com",
    "grace@example.com",
    "linus@example.com",
  ]);
  await shot(page, "e2e-mailing-report.png");
}

/**
 * A recipient unsubscribes from the link in their e-mail (a fresh browser: no account, no
 * cookie); the owner then sees it in the client list, the suppression list and the report.
 */
async function recipientUnsubscribes(browser, page) {
  const link = await linkFromOutbox("grace@example.com", "/unsubscribe/");
  const stranger = await watchedContext(browser, { viewport: { width: 1280, height: 900 } });
  const recipient = await stranger.newPage();
  await recipient.goto(link);
  assert.equal(await recipient.locator("article").getAttribute("data-step"), "ask", "GET only asks");
  await button(recipient, "consent-unsub-submit").click();
  await recipient.locator("article[data-step='unsubscribed']").waitFor();
  await shot(recipient, "e2e-unsubscribed.png");
  await stranger.close();

  await page.goto(url("/clients?status=unsubscribed"));
  const rows = await page.locator("#client-rows tbody tr td:nth-child(2)").allTextContents();
  assert.deepEqual(rows, ["grace@example.com"]);
  assert.equal(await page.locator("#client-rows .badge.state-unsubscribed").count(), 1);
  await shot(page, "e2e-client-states.png");
  await page.goto(url("/suppressions"));
  assert.equal(await page.locator("#suppression-rows tbody tr").count(), 1);
  assert.equal(await page.locator("#suppression-rows a[href$='/delete']").count(), 0, "no Remove for an unsubscribe");
  await shot(page, "e2e-suppressions.png");
  await page.goto(url("/reports?range=today"));
  assert.equal(await page.locator("#total-unsubscribes").textContent(), "1");
  await page.locator("svg.chart circle.said title").first().waitFor({ state: "attached" });
  await shot(page, "e2e-reports.png");
}

async function apiDocs(page) {
  current = page;
  await page.goto(url("/account"));
  await page.locator("main").getByRole("link", { name: "JSON API" }).click();
  await page.waitForURL(/\/api\/docs/);
  // Swagger UI draws the operations from the OpenAPI document: the page is not blank.
  await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: 15_000 });
  await shot(page, "e2e-api-docs.png");
  await page.goBack();
}

/** Phones (360 px): no page scrolls sideways; the menu folds behind its button; a
 * screenshot of each page (`phone-*.png`). */
async function phoneWidth(browser, storageState, mailingPath) {
  const open = async (context, path, name) => {
    const page = await context.newPage();
    current = page;
    await page.goto(url(path));
    await page.locator("main").waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 360) {
      // Name the widest elements that stick out, for the failure message.
      const culprits = await page.evaluate(() =>
        [...document.querySelectorAll("body *")]
          .map((el) => ({ el, right: Math.round(el.getBoundingClientRect().right) }))
          .filter(({ right }) => right > 360)
          // What scrolls in its own box does not widen the page.
          .filter(({ el }) => {
            for (let up = el.parentElement; up; up = up.parentElement) {
              if (["auto", "scroll", "hidden"].includes(getComputedStyle(up).overflowX)) return false;
            }
            return true;
          })
          .sort((a, b) => b.right - a.right)
          .slice(0, 5)
          .map(({ el, right }) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")} → ${right}px`),
      );
      assert.fail(`${path} is ${width}px wide at 360 px: it scrolls sideways (${culprits.join("; ")})`);
    }
    await shot(page, `phone-${name}.png`);
    return page;
  };
  const phone = { viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
  const signedIn = await watchedContext(browser, { ...phone, storageState });
  const messagePath = await (async () => {
    const page = await signedIn.newPage();
    await page.goto(url("/messages"));
    const href = await page.locator("#message-rows tbody a[href^='/messages/']").first().getAttribute("href");
    await page.close();
    return href;
  })();
  for (const [path, name] of [
    ["/dashboard", "dashboard"],
    ["/clients", "clients"],
    ["/clients/new", "client-form"],
    ["/clients/import", "import"],
    ["/messages", "messages"],
    [messagePath, "message"],
    ["/messages/new", "message-form"],
    ["/mailings", "mailings"],
    ["/mailings/new", "mailing-form"],
    [mailingPath, "mailing"],
    ["/reports", "reports"],
    ["/suppressions", "suppressions"],
    ["/account", "account"],
  ]) {
    const page = await open(signedIn, path, name);
    if (name === "dashboard") {
      // The menu is folded: its links show once the button is pressed.
      const clients = page.locator("header.site").getByRole("link", { name: tx("nav-clients"), exact: true });
      assert.equal(await clients.isVisible(), false, "the menu is folded on a phone");
      await page.locator("header.site").getByText(tx("nav-menu")).click();
      await clients.waitFor({ state: "visible" });
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `the open menu is ${width}px wide`);
      await shot(page, "phone-menu.png");
    }
    await page.close();
  }
  await signedIn.close();
  const anonymous = await watchedContext(browser, phone);
  for (const [path, name] of [
    ["/", "home"],
    ["/blog", "blog"],
    ["/login", "login"],
    ["/register", "register"],
  ]) {
    await (await open(anonymous, path, name)).close();
  }
  await anonymous.close();
}

// ---------------------------------------------------------------------------------------
// Staff (admin panel): URL vocabulary of DESIGN.md rule 6

/** A manager blocks the user in /admin/users/; the user's open page is signed out. */
async function managerBlocksUser(browser, userPage) {
  // The user keeps the client list open (its search box makes htmx requests).
  await userPage.goto(url("/clients"));

  const staff = await watchedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await staff.newPage();
  current = page;
  await signIn(page, MANAGER, STAFF_PASSWORD);
  await page.goto(url("/admin/users/"));
  await shot(page, "e2e-admin-changelist.png");
  const row = page.locator("tr", { hasText: USER.email });
  await row.getByRole("checkbox").check();
  const action = page.locator("select[name=action]");
  const block = await action.locator("option").evaluateAll(
    (options) => options.find((o) => /block/i.test(o.value) && !/unblock/i.test(o.value))?.value,
  );
  assert.ok(block, "the users changelist offers a block action");
  await action.selectOption(block);
  await button(page, "admin-go").click();
  // Bulk actions ask for confirmation first.
  await button(page, "admin-yes-sure").click();
  await page.locator("[role=status], .flash").first().waitFor();
  await staff.close();

  // The user's next htmx request (typing in the search box) lands on the sign-in page.
  current = userPage;
  await userPage.locator("#q").fill("grace");
  await userPage.waitForURL(/\/login/);
  await field(userPage, "email").fill(USER.email);
  await field(userPage, "password").fill(USER.password);
  await button(userPage, "account-login-submit").click();
  await userPage.locator("[role=alert]").first().waitFor();
  assert.equal(pathOf(userPage), "/login", "a blocked user cannot sign in again");
}

/** A content manager writes and publishes a post; it shows on /blog and on the home page. */
async function contentManagerPublishesPost(browser) {
  const title = "Spring is here"; // a fresh database every run: no other post has it
  const staff = await watchedContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await staff.newPage();
  current = page;
  await signIn(page, WRITER, STAFF_PASSWORD);
  await page.goto(url("/admin/posts/add/"));
  await a11y.everyFieldLabelled(page, "main form");
  await field(page, "title").fill(title);
  await field(page, "body").fill("Our spring catalogue is out: forty new things.");
  // "Published" is a checkbox: the date then defaults to now.
  await field(page, "is_published").check();
  await button(page, "admin-save").click();
  await page.waitForURL((u) => !u.pathname.endsWith("/add/"));
  await staff.close();

  const visitor = await watchedContext(browser);
  const anonymous = await visitor.newPage();
  current = anonymous;
  await anonymous.goto(url("/blog"));
  await anonymous.getByRole("link", { name: title }).first().waitFor();
  await anonymous.goto(url("/"));
  await anonymous.getByText(title).first().waitFor();
  await visitor.close();
}

// ---------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const context = await watchedContext(browser, { viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    current = page;
    page.on("pageerror", (error) => {
      throw new Error(`script error on ${page.url()}: ${error.message}`);
    });
    const consoleErrors = [];
    page.on("console", (message) => {
      // Expected: the 422 of a form with errors, the browser's own guess at /favicon.ico, and
      // htmx reporting the inline validation it aborted because the form was submitted
      // (hx-sync="closest form:abort").
      const expected =
        /status of 422/.test(message.text()) ||
        /^htmx:(sendAbort|afterRequest)\b/.test(message.text()) ||
        message.location().url.endsWith("/favicon.ico");
      if (message.type() === "error" && !expected) consoleErrors.push(`${page.url()}: ${message.text()}`);
    });

    await step("home page (anonymous)", async () => {
      await page.goto(url("/"));
      await page.locator("main h1").waitFor();
    });
    await step("register, open the verification link from the outbox", () => registerAndVerify(page));
    await step("register the same address again: same answer, the owner is mailed", () =>
      registerTakenAddress(page),
    );
    await step("sign in by keyboard after a wrong password", () => signInByKeyboard(page));
    await step("add a client by form (with inline errors first)", () => addClientByForm(page));
    await step("import clients from CSV", () => importCsv(page));
    await step("write a message", () => writeMessage(page));
    let mailing;
    await step("create a mailing to every client", async () => {
      mailing = await createMailing(page);
    });
    await step("watch its live progress reach done", () => watchProgress(page));
    await step("read the report", () => readReport(page));
    await step("a recipient unsubscribes by the link; the owner sees it everywhere", () =>
      recipientUnsubscribes(browser, page),
    );
    await step("every page at phone width (360 px)", async () =>
      phoneWidth(browser, await context.storageState(), mailing),
    );
    await step("the API docs open on the first click from the account page", () => apiDocs(page));
    current = page;

    await step("content manager publishes a post: on /blog and /", () => contentManagerPublishesPost(browser));
    await step("manager blocks the user; the open page signs out", () => managerBlocksUser(browser, page));

    await step("home page at the end (anonymous)", async () => {
      const visitor = await watchedContext(browser, { viewport: { width: 1280, height: 900 } });
      const home = await visitor.newPage();
      current = home;
      await home.goto(url("/"));
      // On a wide screen the menu shows whole: no fold button.
      const fold = home.locator("header.site").getByText(tx("nav-menu"));
      assert.equal(await fold.isVisible(), false, "the menu button shows only on a phone");
      await shot(home, "e2e-home.png");
      await visitor.close();
    });

    assert.deepEqual(consoleErrors, [], "no errors in the browser console (CSP, scripts)");
    console.log(`e2e story (${LANG}, ${TZ}) passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
  }
}

await main();
