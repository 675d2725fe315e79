/**
 * The embedded web UI driven by a real browser (Debian's /usr/bin/chromium through npm
 * playwright-core) against a broker started in-process with its management HTTP server: log in,
 * create a queue, bind it to amq.direct, publish through the exchange page, get the message back
 * and see its payload, and see the message-rates chart draw points. Skipped, with a message saying
 * so, where /usr/bin/chromium is missing (`apt-get install chromium`; .ci/run installs it).
 */
// deno-lint-ignore no-import-prefix
import { chromium, type Page } from "npm:playwright-core@1";
import assert from "node:assert/strict";
import { startBroker } from "../helpers/broker.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT_DIR = "/tmp";

function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

// With TEST_AMQP_URL the helper hands out an external broker without our admin server.
const external = Deno.env.get("TEST_AMQP_URL") !== undefined;
const skip = !haveChromium() || external;
if (!haveChromium()) {
  console.warn(
    `ui_browser_test: skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)`,
  );
} else if (external) {
  console.warn("ui_browser_test: skipped: TEST_AMQP_URL points at an external broker");
}

/** Waits until fn() in the page is truthy (polling), or fails naming what it waited for. */
async function waitFor(page: Page, what: string, fn: string, timeout = 10_000): Promise<void> {
  try {
    await page.waitForFunction(fn, undefined, { timeout, polling: 100 });
  } catch (err) {
    throw new Error(`timed out waiting for ${what}: ${(err as Error).message.split("\n")[0]}`);
  }
}

/**
 * The user's path through the UI at `base` (a server that serves the UI at "/" and the API at
 * "/api"); screenshots go to SCREENSHOT_DIR/broker-ui-*.png.
 */
export async function uiFlow(page: Page, base: string): Promise<void> {
  const queue = "ui-test-queue";
  const routingKey = "ui-key";
  // Markup in the payload must come back as text, never as elements.
  const payload = 'hello from the UI <b id="injected">&amp;</b> \u2713';

  // A wrong password shows the server's reason on the login page.
  await page.goto(base + "/");
  await page.fill("#login-username", "guest");
  await page.fill("#login-password", "not-the-password");
  await page.click("#login-submit");
  await page.waitForSelector("#login-error:not([hidden])");
  const loginError = (await page.textContent("#login-error")) ?? "";
  assert.match(loginError, /login failed/i);

  await page.fill("#login-password", "guest");
  await page.click("#login-submit");
  await page.waitForSelector("#app-view:not([hidden])");
  assert.equal(await page.textContent("#whoami"), "guest");
  // The session survives a reload (credentials in sessionStorage).
  await page.reload();
  await page.waitForSelector("#app-view:not([hidden])");

  // Create a queue through the Queues page.
  await page.click('nav a[data-page="queues"]');
  await page.waitForSelector("#queue-add-name");
  await page.fill("#queue-add-name", queue);
  await page.selectOption("#queue-add-durable", "false");
  await page.click("#queue-add-submit");
  await page.waitForSelector(`#queues-table a:text-is("${queue}")`);

  // The filter hides it, the header sorts.
  await page.fill("#queues-table-filter", "no-such-queue-name");
  await page.waitForSelector("#queues-table tr.empty");
  await page.fill("#queues-table-filter", queue);
  await page.waitForSelector(`#queues-table a:text-is("${queue}")`);
  await page.click('#queues-table th[data-key="name"]');
  assert.equal(
    await page.getAttribute('#queues-table th[data-key="name"]', "aria-sort"),
    "descending",
  );

  // Bind it to amq.direct from the queue's page.
  await page.click(`#queues-table a:text-is("${queue}")`);
  await page.waitForSelector("#binding-add-source");
  await page.fill("#binding-add-source", "amq.direct");
  await page.fill("#binding-add-routing-key", routingKey);
  await page.click("#binding-add-submit");
  await page.waitForSelector('#queue-bindings-table a:text-is("amq.direct")');

  // Publish through amq.direct's page.
  await page.click('#queue-bindings-table a:text-is("amq.direct")');
  await page.waitForSelector("#publish-routing-key");
  await page.fill("#publish-routing-key", routingKey);
  await page.fill("#publish-payload", payload);
  await page.click("#publish-submit");
  await waitFor(
    page,
    "the publish result",
    `document.querySelector("#publish-result")?.textContent === "Message published."`,
  );

  // Get it back on the queue's page (automatic ack), payload shown as text.
  await page.goto(`${base}/#/queues/${encodeURIComponent("/")}/${encodeURIComponent(queue)}`);
  await waitFor(
    page,
    "one message in the queue",
    `document.querySelector("#queue-total")?.textContent === "1"`,
  );
  await page.selectOption("#queue-get-ackmode", "ack_requeue_false");
  await page.click("#queue-get-submit");
  await page.waitForSelector("#queue-get-results .message-payload");
  assert.equal(await page.textContent("#queue-get-results .message-payload"), payload);
  assert.equal(await page.$("#injected"), null);
  await waitFor(
    page,
    "an empty queue",
    `document.querySelector("#queue-total")?.textContent === "0"`,
  );
  await page.screenshot({ path: `${SCREENSHOT_DIR}/broker-ui-queue.png`, fullPage: true });

  // The overview's message-rates chart draws points, publish among its series; within a sampling
  // interval or two (5 s each) the publish line rises above zero.
  await page.click('nav a[data-page="overview"]');
  await waitFor(
    page,
    "the message-rates chart",
    `(() => {
      const svg = document.querySelector("#chart-rates svg");
      return svg && Number(svg.getAttribute("data-points")) >= 1 &&
        svg.querySelector('polyline[data-series="publish"]') !== null;
    })()`,
  );
  await waitFor(
    page,
    "a publish rate above zero in the chart",
    `Number(document.querySelector('#chart-rates polyline[data-series="publish"]')
      ?.getAttribute("data-max")) > 0`,
    15_000,
  );
  await waitFor(
    page,
    "the totals",
    `Number(document.querySelector("#total-queues")?.textContent) >= 1`,
  );
  await page.screenshot({ path: `${SCREENSHOT_DIR}/broker-ui-overview.png`, fullPage: true });

  // Delete the queue from its page (accepting the confirmation).
  page.once("dialog", (d) => d.accept());
  await page.goto(`${base}/#/queues/${encodeURIComponent("/")}/${encodeURIComponent(queue)}`);
  await page.waitForSelector("#queue-delete");
  await page.click("#queue-delete");
  await page.waitForSelector('nav a[data-page="queues"].active');
  await page.waitForSelector("#queues-table tr.empty");
}

Deno.test({
  name: "web UI: login, add queue, bind, publish, get, rates chart (headless Chromium)",
  ignore: skip,
  // Chromium is a child process with its own pipes; playwright's timers outlive single steps.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startBroker({ management: { enabled: true, port: 0, ip: "127.0.0.1" } });
    const userDataDir = await Deno.makeTempDir({ prefix: "broker-ui-chromium-" });
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const base = `http://127.0.0.1:${broker.server.adminPort}`;
      // launchPersistentContext is playwright's way of passing --user-data-dir (a fresh one).
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
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
      const page = context.pages()[0] ?? await context.newPage();
      page.setDefaultTimeout(10_000);
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(String(err)));
      await uiFlow(page, base);
      assert.deepEqual(errors, [], "uncaught errors in the page");
    } finally {
      await context?.close().catch(() => {});
      await broker.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    }
  },
});
