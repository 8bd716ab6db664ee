#!/usr/bin/env node
// Runs @firestore-emulator/server for tests and the local run, bound to 127.0.0.1 only.
//
// The package's FirestoreServer.start() binds 0.0.0.0, which would expose an unauthenticated
// database to the network, so this script binds the package's grpc Server itself. Beside the
// gRPC port it serves a small HTTP control port (reset, per-method call counts, injected
// failures, a document dump) so tests can observe and disturb the emulator.
//
// Usage: node launcher.mjs [--port N] [--control-port N] [--no-stdin-watch]
// Exits on SIGTERM/SIGINT, when its stdin pipe closes, or when its parent process dies.
// Prints exactly one line "READY grpc=127.0.0.1:P control=127.0.0.1:Q" once both ports listen.

import fs from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";
import { FirestoreServer } from "@firestore-emulator/server";
import { Server, ServerCredentials, status as grpcStatus } from "@grpc/grpc-js";

const HOST = "127.0.0.1";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "control-port": { type: "string", default: "0" },
    "no-stdin-watch": { type: "boolean", default: false },
  },
});

const callCounts = new Map();
// method name -> { remaining, code, message }
const pendingFaults = new Map();

function takeFault(method) {
  const fault = pendingFaults.get(method);
  if (!fault) return null;
  fault.remaining -= 1;
  if (fault.remaining <= 0) pendingFaults.delete(method);
  return fault;
}

function sendError(call, callback, code, message) {
  const error = { code, details: message, message };
  if (typeof callback === "function") {
    callback(error, null);
  } else {
    // Streaming handlers have no callback; grpc-js turns an emitted error into the call status.
    call.emit("error", error);
  }
}

// Counting and fault injection sit in front of every method of the service implementation.
// Methods the package leaves unimplemented throw synchronously; answering UNIMPLEMENTED keeps
// one unsupported client call from killing the whole emulator process.
function instrument(definition, implementation) {
  const wrapped = {};
  for (const [name, attrs] of Object.entries(definition)) {
    const original = implementation[name] ?? implementation[attrs.originalName];
    if (typeof original !== "function") continue;
    wrapped[name] = (call, callback) => {
      callCounts.set(name, (callCounts.get(name) ?? 0) + 1);
      const fault = takeFault(name);
      if (fault) {
        sendError(call, callback, fault.code, fault.message);
        return undefined;
      }
      try {
        return original.call(implementation, call, callback);
      } catch (err) {
        const message = `${name} failed in @firestore-emulator/server: ${err?.message ?? err}`;
        sendError(call, callback, grpcStatus.UNIMPLEMENTED, message);
        return undefined;
      }
    };
  }
  return wrapped;
}

// FirestoreServer registers its (unexported) service implementation in its constructor, so
// addService is intercepted just for that constructor call to put the instrumentation in place.
function createFirestoreServer() {
  const originalAddService = Server.prototype.addService;
  let instrumented = false;
  Server.prototype.addService = function addService(definition, implementation) {
    instrumented = true;
    return originalAddService.call(this, definition, instrument(definition, implementation));
  };
  try {
    const firestore = new FirestoreServer();
    if (!instrumented || !(firestore.server instanceof Server)) {
      throw new Error(
        "@firestore-emulator/server no longer registers its service through @grpc/grpc-js " +
          "Server.addService; the launcher needs updating for this package version",
      );
    }
    return firestore;
  } finally {
    Server.prototype.addService = originalAddService;
  }
}

function bindGrpc(server, port) {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${HOST}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("error", reject);
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8").trim();
      if (!text) {
        resolve({});
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error("request body is not valid JSON"));
      }
    });
  });
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function parseFault(body) {
  const method = body.method;
  const count = body.count ?? 1;
  const code = body.code ?? grpcStatus.UNAVAILABLE;
  if (typeof method !== "string" || method === "") throw new Error("'method' is required");
  if (!Number.isInteger(count) || count < 0) throw new Error("'count' must be an integer >= 0");
  if (!Number.isInteger(code) || code < 1 || code > 16) {
    throw new Error("'code' must be a gRPC status code between 1 and 16");
  }
  const message = body.message ?? `injected fault: ${method} failed with gRPC status ${code}`;
  return { method, remaining: count, code, message };
}

function createControlServer(firestore) {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, `http://${HOST}`);
    const route = `${req.method} ${url.pathname}`;
    try {
      if (route === "POST /reset") {
        firestore.state.clear();
        callCounts.clear();
        pendingFaults.clear();
        reply(res, 200, { ok: true });
      } else if (route === "GET /stats") {
        reply(res, 200, { calls: Object.fromEntries(callCounts) });
      } else if (route === "POST /faults") {
        const fault = parseFault(await readJson(req));
        if (fault.remaining === 0) pendingFaults.delete(fault.method);
        else pendingFaults.set(fault.method, fault);
        reply(res, 200, { ok: true, pending: Object.fromEntries(pendingFaults) });
      } else if (route === "GET /faults") {
        reply(res, 200, { pending: Object.fromEntries(pendingFaults) });
      } else if (route === "GET /documents") {
        const dump = firestore.state.toJSON();
        const project = url.searchParams.get("project");
        if (project) {
          reply(res, 200, { projects: { [project]: dump.projects[project] ?? null } });
        } else {
          reply(res, 200, dump);
        }
      } else if (route === "GET /health") {
        reply(res, 200, { ok: true });
      } else {
        reply(res, 404, { error: `no such control route: ${route}` });
      }
    } catch (err) {
      reply(res, 400, { error: String(err?.message ?? err) });
    }
  });
}

function stdinIsPipe() {
  try {
    const stat = fs.fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, () => resolve(server.address().port));
  });
}

async function main() {
  const firestore = createFirestoreServer();
  const grpcPort = await bindGrpc(firestore.server, Number(args.port));
  const control = createControlServer(firestore);
  const controlPort = await listen(control, Number(args["control-port"]));

  let stopping = false;
  const stop = (reason) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`firestore emulator stopping (${reason})\n`);
    firestore.server.forceShutdown();
    control.closeAllConnections?.();
    control.close(() => process.exit(0));
    // Do not hang on a stuck connection: the caller is waiting for the process to go away.
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (!args["no-stdin-watch"] && stdinIsPipe()) {
    // The Python handle holds our stdin pipe open; EOF means the owner went away. A terminal or
    // /dev/null (a shell's background job) says nothing about the owner, so only pipes count.
    process.stdin.on("end", () => stop("stdin closed"));
    process.stdin.on("error", () => stop("stdin error"));
    process.stdin.resume();
  }
  // A SIGKILLed parent does not close a stdin it shares with others; re-parenting shows it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop("parent exited");
  }, 500).unref();

  process.stdout.write(`READY grpc=${HOST}:${grpcPort} control=${HOST}:${controlPort}\n`);
}

main().catch((err) => {
  process.stderr.write(`firestore emulator failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
