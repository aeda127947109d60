// Starts a real motcua server for the browser tests: the release-independent debug binary
// built by run.sh, a fresh data directory (SQLite) or a fresh PostgreSQL database when
// MOTCUA_TEST_BACKEND=postgres, the demo province loaded, on a free loopback port.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function freshPostgres() {
  const admin = process.env.MOTCUA_TEST_PG_URL;
  if (!admin) throw new Error("MOTCUA_TEST_BACKEND=postgres needs MOTCUA_TEST_PG_URL (scripts/with-postgres.sh)");
  const name = `e2e_${process.pid}_${Date.now()}`;
  execFileSync("psql", [admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE ${name}`]);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startServer(extraEnv = {}) {
  const bin = process.env.MOTCUA_BIN;
  if (!bin) throw new Error("MOTCUA_BIN must name the motcua binary (e2e/run.sh sets it)");
  const dataDir = mkdtempSync(join(tmpdir(), "motcua-e2e-"));
  const port = await freePort();
  const env = {
    ...process.env,
    MOTCUA_LISTEN: `127.0.0.1:${port}`,
    MOTCUA_DATA_DIR: dataDir,
    RUST_LOG: process.env.RUST_LOG || "warn",
    ...extraEnv,
  };
  if (process.env.MOTCUA_TEST_BACKEND === "postgres") env.MOTCUA_DATABASE_URL = freshPostgres();
  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`motcua exited early (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`motcua did not become ready within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
