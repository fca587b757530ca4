// Keyboard and screen-reader basics, checked in the live page.

import assert from "node:assert/strict";

/** Every visible input, select and textarea of the form has a non-empty accessible label. */
export async function everyFieldLabelled(page, formSelector) {
  const form = page.locator(formSelector).first();
  await form.waitFor();
  const unlabelled = await form.evaluate((el) =>
    [...el.querySelectorAll("input, select, textarea")]
      .filter((f) => !["hidden", "submit", "button"].includes(f.type))
      .filter((f) => {
        const byLabel = [...(f.labels || [])].some((l) => l.textContent.trim() !== "");
        const byAria = (f.getAttribute("aria-label") || "").trim() !== "";
        const byIds = (f.getAttribute("aria-labelledby") || "")
          .split(/\s+/)
          .some((id) => id && document.getElementById(id)?.textContent.trim());
        return !(byLabel || byAria || byIds);
      })
      .map((f) => f.name || f.id || f.outerHTML.slice(0, 60)),
  );
  assert.deepEqual(unlabelled, [], `fields without a label in ${formSelector}`);
}

/** Focus is on the first invalid field (or on an error summary) once the page settles. */
export async function focusOnFirstError(page) {
  const ok = await page
    .waitForFunction(
      () => {
        const active = document.activeElement;
        const first = document.querySelector("main [aria-invalid='true']");
        const summary = active?.closest?.("[role=alert]");
        return first ? active === first : Boolean(summary);
      },
      null,
      { timeout: 5_000 },
    )
    .then(() => true)
    .catch(() => false);
  const where = await page.evaluate(() => {
    const a = document.activeElement;
    return a ? `${a.tagName.toLowerCase()}#${a.id || "?"}` : "nothing";
  });
  assert.ok(ok, `focus should be on the first invalid field, is on ${where}`);
}

/**
 * Each invalid field points (aria-describedby) at its error text, and that text sits in a
 * live region (role=alert or aria-live), so screen readers announce it; an error of the whole
 * form (no field to blame) is itself an alert.
 */
export async function errorsAnnounced(page) {
  const report = await page.evaluate(() =>
    [...document.querySelectorAll("main [aria-invalid='true']")].map((field) => {
      const described = (field.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .map((id) => id && document.getElementById(id))
        .filter(Boolean);
      const text = described.map((d) => d.textContent.trim()).join(" ");
      const live = described.some((d) => d.closest("[role=alert], [aria-live]"));
      return { field: field.name || field.id, text, live };
    }),
  );
  if (report.length === 0) {
    // A form-wide error (wrong password) has no field: it must be an alert itself.
    const summary = await page.locator("main [role=alert]").first().textContent().catch(() => "");
    assert.ok(summary?.trim(), "no invalid field and no error in a live region");
    return;
  }
  for (const { field, text, live } of report) {
    assert.ok(text, `${field}: aria-describedby points at no error text`);
    assert.ok(live, `${field}: its error "${text}" is not in a live region`);
  }
}

/** The first Tab reaches a "Skip to content" link that moves focus into <main>. */
export async function skipLinkFirst(page) {
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => ({
    skip: document.activeElement?.classList.contains("skip-link"),
    text: document.activeElement?.textContent.trim(),
    href: document.activeElement?.getAttribute("href"),
  }));
  assert.ok(first.skip && first.text, "the first Tab stop is the skip link, in words");
  const target = first.href.slice(1);
  await page.keyboard.press("Enter");
  await page.waitForFunction((id) => location.hash === `#${id}`, target);
  const inMain = await page.evaluate(
    (id) => document.activeElement?.id === id || document.getElementById(id)?.contains(document.activeElement),
    target,
  );
  assert.ok(inMain, "the skip link moves focus to the content");
}
