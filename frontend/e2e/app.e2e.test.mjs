// End to end in a real browser against the real backend: the admin creates an analyst and a
// viewer; the analyst enrols in MFA, signs in with a TOTP code, uploads a dataset, runs a
// backtest and follows it live, reads the results and downloads the trades CSV; the viewer is
// refused the launcher and the upload. Each screen is saved to e2e/screenshots/.
import { after, before, describe, test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { frontendDir, startBackend, startPreview } from "./servers.mjs";
import { freshCode, timeStep } from "./totp.mjs";

const SHOTS = join(frontendDir, "e2e", "screenshots");
const DOWNLOADS = join(frontendDir, "e2e", "downloads");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const ANALYST = { email: "ana.analyst@example.com", password: "analyst-password-2024" };
const VIEWER = { email: "vic.viewer@example.com", password: "viewer-password-2024" };

let backend;
let preview;
let browser;
let base;
let shot = 0;
let mfaSecret;
let mfaStep;

let failures = 0;

/** `node:test`'s test, counting failures: a failed run prints the backend's recent log. */
function test(name, fn) {
  return nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (error) {
      failures += 1;
      throw error;
    }
  });
}

async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

async function newPage(width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  return page;
}

async function signIn(page, user) {
  await page.goto(`${base}/login`);
  await page.getByLabel("E-mail").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Submits a TOTP code and waits for the dashboard; a refusal fails with the API's words. */
async function enterCode(page, code) {
  await page.getByLabel("Authentication code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  const dashboard = page.getByRole("heading", { name: "Dashboard" });
  const refusal = page.getByRole("alert");
  await dashboard.or(refusal).first().waitFor();
  if (await refusal.count()) throw new Error(`code ${code} refused: ${await refusal.first().innerText()}`);
}

/** A small daily CSV of one ES contract: 40 business days from 2024-09-02. */
function sampleCsv() {
  const rows = ["ts,open,high,low,close,volume"];
  let price = 5600;
  const day = new Date(Date.UTC(2024, 8, 2));
  for (let i = 0; rows.length < 41; day.setUTCDate(day.getUTCDate() + 1)) {
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    const close = price + (((i * 7) % 5) - 2) * 1.25;
    const [high, low] = [Math.max(price, close) + 2.5, Math.min(price, close) - 2.5];
    rows.push(`${day.toISOString().slice(0, 10)},${price.toFixed(2)},${high.toFixed(2)},${low.toFixed(2)},${close.toFixed(2)},${100000 + i * 10}`);
    price = close;
    i += 1;
  }
  return `${rows.join("\n")}\n`;
}

describe("Contango web app", { concurrency: false }, () => {
  before(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(DOWNLOADS, { recursive: true });
    backend = await startBackend();
    if (process.env.E2E_SERVE === "backend") base = backend.url.replace("127.0.0.1", "localhost");
    else {
      preview = await startPreview(backend.url);
      base = preview.url;
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  after(async () => {
    if (failures && backend) {
      const lines = backend.log().trimEnd().split("\n");
      console.log(`the backend's last ${Math.min(lines.length, 80)} log lines:\n${lines.slice(-80).join("\n")}`);
    }
    await browser?.close();
    await preview?.stop();
    await backend?.stop();
  });

  test("the admin signs in and creates an analyst and a viewer", async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await screenshot(page, "login");
    await signIn(page, backend.admin);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await screenshot(page, "dashboard-admin");
    await page.getByRole("link", { name: "Users" }).click();
    for (const [user, role] of [[ANALYST, "analyst"], [VIEWER, "viewer"]]) {
      await page.getByLabel("E-mail").fill(user.email);
      await page.getByLabel("Role", { exact: true }).selectOption(role);
      await page.getByLabel(/Initial password/).fill(user.password);
      await page.getByRole("button", { name: "Create user" }).click();
      await page.getByText(`Created ${user.email} (${role})`).waitFor();
    }
    await page.getByRole("cell", { name: VIEWER.email }).first().waitFor();
    await screenshot(page, "users");
    // A mistake is explained where it was made: the same e-mail again is refused with the API's detail.
    await page.getByLabel("E-mail").fill(VIEWER.email);
    await page.getByLabel(/Initial password/).fill(VIEWER.password);
    await page.getByRole("button", { name: "Create user" }).click();
    const refusal = page.getByRole("alert").filter({ hasText: "User not created" });
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /User not created: .+/);
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("cell", { name: "user.create" }).first().waitFor();
    await screenshot(page, "audit-log");
    await page.context().close();
  });

  test("the analyst enrols in MFA, then signs in with a TOTP code", async () => {
    const page = await newPage();
    await signIn(page, ANALYST);
    await page.getByRole("note").getByRole("link", { name: "Turn it on" }).click();
    await page.getByLabel("Current password").first().fill(ANALYST.password);
    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const qr = page.getByRole("img", { name: "QR code of the authenticator secret" });
    await qr.waitFor();
    assert.match(await qr.getAttribute("src"), /^data:image\/svg\+xml/);
    mfaSecret = (await page.getByTestId("mfa-secret").innerText()).trim();
    const enrol = await freshCode(mfaSecret);
    await page.getByLabel("Code from the app").fill(enrol.code);
    await page.getByRole("button", { name: "Turn on" }).click();
    const codes = page.getByRole("list", { name: "recovery codes" }).getByRole("listitem");
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    await screenshot(page, "mfa-recovery-codes");
    await page.getByRole("button", { name: "Sign out" }).click();

    await signIn(page, ANALYST);
    await page.getByLabel("Authentication code").waitFor();
    await screenshot(page, "login-mfa-code");
    const login = await freshCode(mfaSecret, enrol.step);
    mfaStep = login.step;
    await enterCode(page, login.code);
    assert.equal(await page.getByRole("note").count(), 0, "the MFA banner is gone once MFA is on");
    await page.context().close();
  });

  describe("as the analyst", { concurrency: false }, () => {
    let page;
    let jobId;

    before(async () => {
      page = await newPage();
      await signIn(page, ANALYST);
      await page.getByLabel("Authentication code").waitFor();
      const { code } = await freshCode(mfaSecret, mfaStep ?? timeStep() - 1);
      await enterCode(page, code);
    });

    after(async () => page?.context().close());

    test("uploads a CSV dataset with progress and sees its validation report", async () => {
      const file = join(DOWNLOADS, "es_e2e.csv");
      writeFileSync(file, sampleCsv());
      await page.getByRole("link", { name: "Upload data" }).click();
      await page.getByLabel("Dataset name").fill("ES.e2e");
      await page.getByLabel("Market root").fill("ES");
      await page.getByLabel(/^Contract/).fill("ESZ24");
      await page.getByLabel("File", { exact: true }).setInputFiles(file);
      await page.getByRole("button", { name: "Upload" }).click();
      await page.getByRole("heading", { name: "Imported" }).waitFor();
      assert.match(await page.getByRole("status").filter({ hasText: "rows" }).first().innerText(), /40 rows, 0 errors, 0 warnings — accepted/);
      await screenshot(page, "upload");
      await page.getByRole("link", { name: "ES.e2e" }).click();
      await page.getByRole("heading", { name: /^Version / }).waitFor();
      await page.getByText("ESZ2024").waitFor();
      await screenshot(page, "dataset-versions");
    });

    test("browses contract specifications and a continuous series quoted in 32nds", async () => {
      await page.getByRole("link", { name: "Data", exact: true }).click();
      await page.getByRole("tab", { name: "Contract specifications" }).click();
      // ZN's tick, 1/64 of a point, is written as half a 32nd: 0-005.
      const zn = page.getByRole("row").filter({ has: page.getByRole("link", { name: "ZN", exact: true }) });
      await zn.waitFor();
      assert.match(await zn.innerText(), /0-005/);
      await screenshot(page, "contracts");
      await page.getByRole("tab", { name: "Continuous series" }).click();
      await page.getByLabel("Root").fill("ZN");
      await page.getByRole("button", { name: "Build" }).click();
      await page.getByRole("heading", { name: "Roll schedule" }).waitFor();
      const firstRoll = page.getByRole("table", { name: "roll schedule" }).getByRole("row").nth(1);
      assert.match(await firstRoll.innerText(), /\d+-\d{2}[05]/, "Treasury closes shown in 32nds with the half digit");
      await page.locator(".chart canvas").first().waitFor();
      await screenshot(page, "continuous-series");
      await page.getByRole("link", { name: "Strategies" }).click();
      await page.getByRole("heading", { name: "Moving-average crossover" }).waitFor();
      await screenshot(page, "strategies");
    });

    test("launches a backtest and follows its progress over the WebSocket", async () => {
      const frames = [];
      page.on("websocket", (socket) => {
        if (socket.url().includes("/api/v1/ws/jobs/")) socket.on("framereceived", (frame) => frames.push(JSON.parse(frame.payload)));
      });
      await page.getByRole("link", { name: "New backtest" }).first().click();
      await page.getByLabel("Name").first().fill("ES crossover e2e");
      await page.getByLabel("Start").fill("2012-01-01");
      await page.getByLabel("End").fill("2020-12-31");
      await page.getByRole("checkbox", { name: /^ES E-mini S&P 500/ }).check();
      await page.getByLabel("Strategy", { exact: true }).selectOption("ma_crossover");
      await page.getByLabel("Fast Window").fill("10");
      await page.getByLabel("Slippage (ticks)").fill("1");
      await screenshot(page, "launcher");
      await page.getByRole("button", { name: "Run backtest" }).click();
      await page.waitForURL(/\/backtests\/[0-9a-f-]{36}$/);
      jobId = page.url().split("/").pop();
      const started = Date.now();
      await page.getByRole("heading", { name: "Monthly returns" }).waitFor({ timeout: 300_000 });
      console.log(`backtest ${jobId} finished in the browser after ${Date.now() - started} ms`);
      const statuses = frames.map((frame) => frame.status);
      assert.ok(frames.length > 0, "progress arrived over the WebSocket");
      assert.equal(statuses.at(-1), "succeeded", `the feed ends with success (${statuses.join(",")})`);
      assert.equal(await page.locator(".badge-succeeded").first().textContent(), "succeeded");
    });

    test("reads the results: metrics with intervals, charts, heatmap, trades, CSV", async () => {
      const metrics = page.locator(".metrics");
      await metrics.getByText("Sharpe").waitFor();
      assert.match(await metrics.innerText(), /95% CI \[/);
      assert.ok((await page.locator(".chart canvas").count()) >= 2, "equity and drawdown charts drawn");
      assert.ok((await page.locator("table.heatmap tbody tr").count()) >= 8, "a heatmap row per year");
      const trades = page.getByRole("table", { name: "trades" });
      await trades.getByRole("row").nth(1).waitFor();
      await trades.getByRole("button", { name: /pnl net/ }).click();
      await page.waitForFunction(() => document.querySelector("th[aria-sort]")?.getAttribute("aria-sort") === "ascending");
      await screenshot(page, "results");
      const total = Number(/of (\d+)/.exec(await page.locator(".pager span").last().innerText())?.[1]);
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download trades CSV" }).click()]);
      const saved = join(DOWNLOADS, "trades.csv");
      await download.saveAs(saved);
      const lines = readFileSync(saved, "utf8").trim().split("\n");
      assert.match(lines[0], /"market".*"pnl_net"/);
      assert.equal(lines.length - 1, total, "one CSV line per trade in the table");
      const tablet = await newPage(820);
      await tablet.context().addCookies(await page.context().cookies());
      await tablet.goto(`${base}/backtests/${jobId}`);
      await tablet.getByRole("heading", { name: "Monthly returns" }).waitFor();
      await screenshot(tablet, "results-tablet");
      await tablet.context().close();
    });

    test("compares two runs and reads a sweep's diagnostics", async () => {
      await page.goto(`${base}/backtests/new`);
      await page.getByRole("checkbox", { name: /^ES E-mini S&P 500/ }).check();
      await page.getByLabel("Strategy", { exact: true }).selectOption("ma_crossover");
      await page.getByLabel("Start").fill("2012-01-01");
      await page.getByLabel("End").fill("2020-12-31");
      await page.getByRole("button", { name: "Run backtest" }).click();
      await page.getByRole("heading", { name: "Monthly returns" }).waitFor({ timeout: 300_000 });
      const second = page.url().split("/").pop();
      await page.goto(`${base}/compare?ids=${jobId},${second}`);
      await page.getByRole("rowheader", { name: "Sharpe" }).waitFor();
      await page.locator(".chart canvas").first().waitFor();
      await screenshot(page, "compare");
      await page.getByRole("link", { name: "Research" }).click();
      await page.getByRole("button", { name: "Submit" }).click();
      await page.getByRole("heading", { name: "Overfitting diagnostics" }).waitFor({ timeout: 300_000 });
      await page.getByRole("table", { name: "ranked trials" }).getByRole("row").nth(1).waitFor();
      assert.match(await page.locator(".metrics").innerText(), /Probability of backtest overfitting/);
      await screenshot(page, "sweep");
      await page.getByRole("link", { name: "Dashboard" }).click();
      await page.getByRole("table", { name: "recent backtests" }).getByRole("row").nth(1).waitFor();
      await page.getByRole("button", { name: /switch to (dark|light) theme/ }).click();
      await screenshot(page, "dashboard-theme-toggled");
    });
  });

  test("the viewer sees no launcher or upload, and the API refuses them too", async () => {
    const page = await newPage();
    await signIn(page, VIEWER);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const nav = page.getByRole("navigation", { name: "main" });
    assert.equal(await nav.getByRole("link", { name: "New backtest" }).count(), 0);
    assert.equal(await nav.getByRole("link", { name: "Users" }).count(), 0);
    assert.equal(await page.getByRole("link", { name: "Upload data" }).count(), 0);
    await screenshot(page, "dashboard-viewer");
    for (const path of ["/backtests/new", "/data/upload"]) {
      await page.goto(`${base}${path}`);
      await page.getByRole("alert").filter({ hasText: "Not allowed." }).waitFor();
    }
    await screenshot(page, "viewer-refused");
    const status = await page.evaluate(async () => {
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("contango_csrf="))?.split("=")[1] ?? "";
      const response = await fetch("/api/v1/backtests", {
        method: "POST",
        headers: { "content-type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ config: { markets: [{ root: "ES" }], strategy: { name: "ma_crossover" } } }),
      });
      return response.status;
    });
    assert.equal(status, 403);
    await page.context().close();
  });
});
