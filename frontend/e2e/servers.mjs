// The servers an end-to-end run needs, started by the run itself: the real backend (sample data
// loaded into a temporary data folder, the admin's first-start password read from its output)
// and the built app behind `vite preview`, whose proxy forwards /api to that backend.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const frontendDir = resolve(here, "..");
const repoDir = resolve(frontendDir, "..");
const contango = process.env.CONTANGO_BIN ?? join(repoDir, ".venv", "bin", "contango");

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitFor(url, deadlineMs, child, output) {
  const stop = Date.now() + deadlineMs;
  while (Date.now() < stop) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode}):\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${deadlineMs} ms:\n${output()}`);
}

function run(command, args, env, timeoutMs) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(output);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output.slice(-2000)}`));
    });
  });
}

function stopChild(child) {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill("SIGTERM");
  });
}

/** Sample data, then `contango serve` on a free port; answers its URL and the admin login. */
export async function startBackend() {
  const dataDir = mkdtempSync(join(tmpdir(), "contango-e2e-"));
  const port = await freePort();
  const env = { ...process.env, CONTANGO_DATA_DIR: dataDir, CONTANGO_PORT: String(port), CONTANGO_HOST: "127.0.0.1" };
  await run(contango, ["samples", "load", "--if-empty"], env, 180_000);
  const child = spawn(contango, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, 60_000, child, () => output);
  const match = /Log in as (\S+) with password (\S+?)[\s(]/.exec(output);
  if (!match) throw new Error(`no admin password in the server's output:\n${output.slice(0, 2000)}`);
  return {
    url,
    admin: { email: match[1], password: match[2] },
    log: () => output,
    stop: async () => {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `vite preview` of dist/ on a free port, proxying /api (and its WebSocket) to the backend. */
export async function startPreview(backendUrl) {
  const port = await freePort();
  const vite = join(frontendDir, "node_modules", "vite", "bin", "vite.js");
  const child = spawn(process.execPath, [vite, "preview", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], {
    cwd: frontendDir,
    env: { ...process.env, CONTANGO_API_URL: backendUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  await waitFor(`http://127.0.0.1:${port}/`, 30_000, child, () => output);
  // "localhost", not 127.0.0.1: browsers count it as a secure context, so the backend's
  // Secure cookies are kept over plain HTTP.
  return { url: `http://localhost:${port}`, stop: () => stopChild(child) };
}
